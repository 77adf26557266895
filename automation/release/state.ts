import { Color, otherColor, parseVersion } from "../../infra/contract/settings";
import { UsageError } from "./errors";
import { Step } from "./plan";

/**
 * The gates a release runs at every step; kept in the release so a resumed run judges alike.
 * The gates registry (automation/gates/registry.ts) writes them: each gate's settings under its
 * name, in the order the gates run, and the settings of the loop that runs them. The engine reads
 * the three below; the others are the gates' own.
 */
export interface GateSettings {
  /** Ask a person before each next step (a prompt on a terminal, a pause otherwise). */
  manual: boolean;
  /**
   * How long a step may stay inconclusive past its bake time: then onInconclusive applies to a
   * step short of data or undecided by its evidence, and any other rolls back.
   */
  maxInconclusiveMs: number;
  /** How often gates are evaluated while a step holds. */
  intervalMs: number;
  /**
   * What a step still short of data, or undecided by its evidence (GateResult.undecided), past
   * bake + maxInconclusiveMs does: pause (exit 3) or roll back. Absent in releases recorded
   * before the setting: roll back, as they did.
   */
  onInconclusive?: "pause" | "rollback";
  [gate: string]: unknown;
}

export type Phase =
  | "deploying"
  | "shifting"
  | "gating"
  | "promoting"
  | "rolling-back"
  | "scaling-down"
  | "done";

export type Status = "running" | "paused" | "promoted" | "rolled-back" | "aborted" | "failed";

export interface Decision {
  at: number;
  step: number;
  weight: number;
  gate: string;
  verdict: "pass" | "fail" | "inconclusive" | "pause" | "approved" | "aborted";
  reason: string;
}

/**
 * A release's progress, kept by a ReleaseStore (on a stack: its `release` setting) so that
 * any driver, `status`, or a restart reads the same thing.
 */
export interface ReleaseState {
  id: string;
  version: string;
  /** Version the stable colour served when the release began. */
  previousVersion: string;
  stableColor: Color;
  canaryColor: Color;
  steps: Step[];
  gates: GateSettings;
  /** Index into steps; -1 while the new version is being deployed at weight 0. */
  stepIndex: number;
  phase: Phase;
  status: Status;
  /** When the current step's weight was applied (epoch ms); its bake time counts from here. */
  stepStartedAt?: number;
  /** When each step's weight was applied (epoch ms), by step index: metrics evidence accumulates over them. */
  stepStarts: number[];
  /** Steps a person approved (manual gate). */
  approvedSteps: number[];
  /** After promotion: when the old stable colour is scaled down (epoch ms). */
  scaleDownAt?: number;
  scaleDownDelayMs: number;
  /**
   * Keep the canary colour's tasks running after a rollback (for debugging) instead of scaling
   * it to 0; absent in releases written before the flag existed (scale to 0).
   */
  keepCanary?: boolean;
  startedAt: number;
  updatedAt: number;
  /** Why the release ended, when it did not promote. */
  outcome?: string;
  decisions: Decision[];
  /**
   * What gates keep for later steps, by gate name: small plain JSON a gate handed back with a
   * passing step (GateResult.keep), written with the next step's transition. E.g. the metrics
   * gate's error-rate summary of the steps so far, the last step's baseline. Absent before the
   * first step passed, and in releases recorded before the field existed.
   */
  gateMemory?: { [gate: string]: unknown };
}

/**
 * The gates a release with these settings runs at every step, by name, in the order they run:
 * bake (every step holds its bake time), the automated gates the release keeps settings of (in
 * the order the gates registry wrote them), then a person's approval.
 */
export function gateNames(gates: GateSettings): string[] {
  const automated = Object.keys(gates).filter(
    (key) =>
      key !== "manual" &&
      key !== "maxInconclusiveMs" &&
      key !== "intervalMs" &&
      key !== "onInconclusive" &&
      gates[key] !== undefined &&
      gates[key] !== false,
  );
  return ["bake", ...automated, ...(gates.manual ? ["manual approval"] : [])];
}

/** A release still owning traffic decisions: running or paused, not yet promoted or rolled back. */
export function isActive(state: ReleaseState | undefined): state is ReleaseState & {
  status: "running" | "paused";
} {
  return state !== undefined && (state.status === "running" || state.status === "paused");
}

/** A promoted release whose old stable colour still runs: an abort can swap back at once. */
export function canSwapBack(
  state: ReleaseState | undefined,
): state is ReleaseState & { status: "promoted" } {
  return state !== undefined && state.status === "promoted" && state.phase === "scaling-down";
}

/** The release's canary weight at its current point (0 while deploying). */
export function currentWeight(state: ReleaseState): number {
  return state.stepIndex < 0 ? 0 : state.steps[state.stepIndex].weight;
}

/** Keeps the last decisions only, so the stack config stays small. */
export function withDecision(state: ReleaseState, decision: Decision, keep = 50): ReleaseState {
  return { ...state, decisions: [...state.decisions, decision].slice(-keep) };
}

/** What a rollout is asked to release. */
export interface ReleaseRequest {
  version: string;
  steps: Step[];
  gates: GateSettings;
  scaleDownDelayMs: number;
  /** Container image for the new version (default: the canary colour's current image). */
  image?: string;
  /** After a rollback, keep the canary colour's tasks running (for debugging) instead of scaling it to 0. */
  keepCanary?: boolean;
}

/** A release of the request onto the colour that is not `stable`, starting now, before its deploy. */
export function newRelease(
  request: ReleaseRequest,
  stable: { color: Color; version: string },
  now: number,
): ReleaseState {
  if (request.steps.length === 0) throw new UsageError("the release has no steps");
  parseVersion("version", request.version);
  if (stable.version === request.version) {
    throw new UsageError(
      `version ${request.version} is already the stable version on ${stable.color}; nothing to release`,
    );
  }
  return {
    id: `${request.version}@${now}`,
    version: request.version,
    previousVersion: stable.version,
    stableColor: stable.color,
    canaryColor: otherColor(stable.color),
    steps: request.steps,
    gates: request.gates,
    stepIndex: -1,
    phase: "deploying",
    status: "running",
    stepStarts: [],
    approvedSteps: [],
    scaleDownDelayMs: request.scaleDownDelayMs,
    keepCanary: request.keepCanary === true,
    startedAt: now,
    updatedAt: now,
    decisions: [],
  };
}
