import type { CanaryHeader } from "../../infra/contract/canaryHeader";
import { Color } from "../../infra/contract/settings";
import { StackOutputs } from "../../infra/contract/outputs";
import { Step } from "./plan";
import { Decision, GateSettings, ReleaseState } from "./state";

// ---- gates and people -----------------------------------------------------------------------

export interface GateContext {
  release: ReleaseState;
  step: Step;
  stepIndex: number;
  outputs: StackOutputs;
  now: number;
  /** Time since the step's weight was applied. */
  elapsedMs: number;
}

export type GateVerdict = "pass" | "fail" | "inconclusive";

export interface GateResult {
  gate: string;
  verdict: GateVerdict;
  /** One line with the numbers behind the verdict. */
  reason: string;
  details?: unknown;
  /**
   * An inconclusive verdict for want of data (the step's minimum sample not reached): what is
   * short, in numbers, and what would give the step enough. A step still short past its bake
   * and --max-inconclusive pauses (or rolls back with --on-inconclusive rollback).
   */
  shortOfData?: { reason: string; remedies: string[] };
  /**
   * An inconclusive verdict with the sample complete whose evidence leans towards a regression
   * without reaching the fail threshold: more data would settle it either way. Past the bake and
   * --max-inconclusive it pauses like shortOfData (or rolls back with --on-inconclusive rollback).
   */
  undecided?: { reason: string; remedies: string[] };
  /**
   * With a pass: small plain JSON the gate wants at later steps. The release keeps it under
   * `gateMemory[gate]` (replacing what the gate kept before), written with the next step.
   */
  keep?: unknown;
}

/** An automated check of the canary between steps. */
export interface Gate {
  readonly name: string;
  /**
   * How late this gate's data arrives, in ms (e.g. the metrics gate: the source's settle delay
   * plus one interval). A step may stay inconclusive this much longer before --on-inconclusive
   * applies (or, held for another reason, it rolls back).
   */
  readonly dataDelayMs?: number;
  /**
   * Also run once right after the deploy, at weight 0, before any user traffic moves (the
   * probe through the header route): anything but a pass there rolls the release back.
   */
  readonly preTraffic?: boolean;
  check(ctx: GateContext): Promise<GateResult>;
}

/** A person's go/no-go: "unavailable" when nobody can be asked now (no terminal). */
export interface Approver {
  ask(ctx: GateContext): Promise<"approved" | "rejected" | "unavailable">;
}

// ---- time and reports -----------------------------------------------------------------------

export interface Clock {
  now(): number;
  /** Resolves after ms, or early when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export type OutcomeKind =
  | "promoted"
  | "rolled-back"
  | "paused"
  | "aborted"
  | "interrupted"
  | "done";

/** A colour and the version it runs. */
export interface ColorVersion {
  color: Color;
  version: string;
}

/**
 * How a command ended, as data; the CLI phrases it (automation/cli/text.ts). Notes that the
 * release also records (why it rolled back, what happened to the canary) come as they are.
 */
export type OutcomeDetail =
  /** The release reached its end (promoted, with the old stable scaled down). */
  | { type: "finished" }
  /** Ctrl-C: the run stopped at a safe point. */
  | { type: "interrupted" }
  | { type: "paused"; reason: string }
  /** All traffic back on the stable colour; `canaryNote` says what became of the canary. */
  | { type: "rolled-back"; canaryNote: string }
  /** A promotion undone; `scaledUp`: the old stable had to be scaled up first. */
  | { type: "swapped-back"; canaryNote: string; scaledUp: boolean }
  | { type: "undone-meanwhile" }
  | { type: "changed-meanwhile" }
  /** `abort` without a release: the stable colour serves everything. */
  | { type: "stable-serves"; stable: ColorVersion }
  /** `set-weight`; `scaledUp`: the canary had no tasks and was scaled up first. */
  | {
      type: "weight-set";
      weight: number;
      canary: ColorVersion;
      stable: ColorVersion;
      scaledUp: boolean;
    };

export interface Outcome {
  kind: OutcomeKind;
  detail: OutcomeDetail;
  release?: ReleaseState;
}

export type ReleaseEvent =
  | { type: "release"; release: ReleaseState; resumed: boolean }
  | { type: "update-started"; purpose: string; config: Record<string, string | undefined> }
  | { type: "update-finished"; purpose: string; weights: Record<Color, number>; durationMs: number }
  | { type: "step"; release: ReleaseState }
  | { type: "gates"; release: ReleaseState; results: GateResult[]; elapsedMs: number }
  | { type: "decision"; release: ReleaseState; decision: Decision }
  | { type: "outcome"; outcome: Outcome };

/** Where the engine and the traffic port tell what they do, as it happens. */
export type Report = (event: ReleaseEvent) => void;

// ---- the release's record -------------------------------------------------------------------

/** Where a release's state lives, so that any driver, `status`, or a restart reads the same. */
export interface ReleaseStore {
  /**
   * The release recorded now, read afresh (undefined when none). Refuses settings the program
   * would refuse, so no step runs on them.
   */
  read(): Promise<ReleaseState | undefined>;
  /** Records the release's state; changes nothing else. */
  write(state: ReleaseState): Promise<void>;
}

/** One colour's columns of kept intervals. */
export interface KeptColumns {
  requests: number[];
  errors: number[];
  /** null: no latency known for the interval. */
  p99Ms: (number | null)[];
}

/**
 * A release's intervals in a compact, bounded form (columns; automation/metrics/kept.ts makes
 * and reads them): what its report draws, after the metrics source has dropped them.
 */
export interface KeptIntervals {
  /** Length of one kept interval (ms): the source's, or a multiple of it for a long window. */
  intervalMs: number;
  /** Start of the first kept interval (epoch ms); interval i starts at from + i * intervalMs. */
  from: number;
  /**
   * Intervals that ended by then were settled when kept (final); later ones are read from the
   * metrics source again when a report is made.
   */
  until: number;
  stable: KeptColumns;
  canary: KeptColumns;
  balancerErrors: number[];
}

/** A finished release as kept for its report: its state and, when they could be read, its metrics. */
export interface ArchivedRelease {
  release: ReleaseState;
  metrics?: KeptIntervals;
}

/**
 * Finished releases kept for their reports, beside the release's record and read the same way,
 * so that a report can be made from any machine that reads the stack. Bounded: the store keeps
 * the last few (see its implementation), newest last.
 */
export interface ReleaseArchive {
  archived(): Promise<ArchivedRelease[]>;
  /** Keeps the release (replacing an entry with the same id); drops the oldest beyond the bound. */
  archive(entry: ArchivedRelease): Promise<void>;
}

// ---- traffic --------------------------------------------------------------------------------

/** What the routing settings ask for now. */
export interface Routing {
  stable: ColorVersion;
  canary: ColorVersion;
  canaryWeight: number;
  /** The canary colour's task set scale, percent of the desired count (the stable's is 100). */
  canaryScale: number;
  /** The header route to the canary colour (the canaryHeader setting); absent: none. */
  canaryHeader?: CanaryHeader;
}

/** A version (and optionally its container image; default the colour's current one) for a colour. */
export interface Deployment extends ColorVersion {
  image?: string;
}

export interface UpdateOptions {
  /** What the update is for, e.g. "step 2/3: 50% to 1.0.2"; named in events and errors. */
  purpose: string;
  /** The release's state, written in the same write as the change, before the update runs. */
  record?: ReleaseState;
}

/**
 * Moves traffic between the two colours, in the spirit of Argo Rollouts' traffic routing
 * reconciler (SetWeight, then VerifyWeight; rollout/trafficrouting/trafficroutingutil.go).
 * Every change is checked before anything is written against the stack as deployed: an unsafe
 * one (traffic to a colour without tasks, a change that would replace the target groups) is
 * refused with a UsageError and nothing changes. Then it is written, applied by one update, and
 * verified: the outputs returned show the weights and scales the change asked for; a failed
 * update or another result is an InfrastructureError. Updates are reported as they run.
 */
export interface TrafficPort {
  /** The stack whose traffic this moves, for messages. */
  readonly name: string;
  /** The routing as this run last read or wrote it (read once when nothing was yet). */
  routing(): Promise<Routing>;
  /** The stack as deployed: the outputs of this run's last update, else of the stack, if any. */
  deployed(): Promise<StackOutputs | undefined>;
  /** Refuses a deployment whose settings the program would refuse; reads no outputs, writes nothing. */
  validate(deployment: Deployment): Promise<void>;
  /** Checks a deployment and writes it with the release's record, without running it (`deploy` does). */
  stage(deployment: Deployment, options: UpdateOptions & { record: ReleaseState }): Promise<void>;
  /** The version on its colour at weight 0, scaled to 100; returns once its tasks are healthy. */
  deploy(deployment: Deployment, options: UpdateOptions): Promise<StackOutputs>;
  /** The canary colour's share of traffic, 0-100. */
  shift(weight: number, options: UpdateOptions): Promise<StackOutputs>;
  /**
   * The colour becomes the stable one at 100% (canary weight 0); the other colour keeps its
   * tasks, or is scaled to `otherScale`.
   */
  promote(color: Color, options: UpdateOptions & { otherScale?: 0 | 100 }): Promise<StackOutputs>;
  /** Scales the colour that gets no traffic (canary weight 0) to 0 or 100 percent. */
  scale(color: Color, scale: 0 | 100, options: UpdateOptions): Promise<StackOutputs>;
  /** All traffic to `stable`; the other colour is scaled to 0 unless `keepCanary`. */
  rollBack(stable: Color, keepCanary: boolean, options: UpdateOptions): Promise<StackOutputs>;
}

// ---- all of them ----------------------------------------------------------------------------

/** The ports a release runs on; the CLI wires them (automation/cli/main.ts), tests fake them. */
export interface ReleasePorts {
  traffic: TrafficPort;
  releases: ReleaseStore;
  /** Builds the automated gates of a release from its settings and the stack's outputs. */
  gates(settings: GateSettings, outputs: StackOutputs): Gate[];
  approver: Approver;
  clock: Clock;
  report: Report;
  /** Aborted on Ctrl-C: the release stops at the next safe point. */
  signal?: AbortSignal;
}
