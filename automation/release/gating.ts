import {
  CanaryHeader,
  formatCanaryHeader,
  headerValueMatches,
} from "../../infra/contract/canaryHeader";
import { StackOutputs } from "../../infra/contract/outputs";
import { UsageError } from "./errors";
import { formatDuration } from "./duration";
import { Gate, GateContext, GateResult, ReleasePorts } from "./ports";
import { GateSettings, ReleaseState } from "./state";

export type StepVerdict =
  /** `reason`: the gates' lines that passed the step, for the release's decisions. */
  | { kind: "pass"; release: ReleaseState; reason: string }
  | { kind: "fail"; reason: string }
  /** `gate`: who paused (a person's approval by default). */
  | { kind: "pause"; reason: string; release: ReleaseState; gate?: string }
  /** Ctrl-C, or the release was changed by another command (say, an abort) meanwhile. */
  | { kind: "stopped"; by: "interrupt" | "another command"; release?: ReleaseState };

/** What the release's record needs from a step's gating. */
export interface GatingRecord {
  /** Records a person's approval at the prompt; returns the state recorded. */
  approved(latest: ReleaseState): Promise<ReleaseState>;
  /** Records what this run has not recorded yet, before it waits (for a check, or a person). */
  beforeWait(): Promise<void>;
}

/**
 * Runs the gates of the release's current step every `intervalMs` until they pass, one fails,
 * a person is needed, or the run stops. The first check takes `state` as this run has just
 * recorded it; later ones read the record again, so another command's change (an abort) stops
 * the step within an interval (and any write of this run refuses it sooner).
 */
export async function gateStep(
  state: ReleaseState,
  ports: ReleasePorts,
  record: GatingRecord,
): Promise<StepVerdict> {
  const { clock, signal } = ports;
  const step = state.steps[state.stepIndex];
  const outputs = await ports.traffic.deployed();
  if (outputs === undefined) return { kind: "fail", reason: "the stack has no outputs" };
  const gates = ports.gates(state.gates, outputs);
  // Gates whose data arrives late may stay inconclusive that much longer.
  const dataDelayMs = Math.max(
    0,
    ...gates.map((g) => g.dataDelayMs ?? 0).filter((ms) => Number.isFinite(ms)),
  );
  const allowedMs = state.gates.maxInconclusiveMs + dataDelayMs;
  const stepStartedAt = state.stepStartedAt ?? clock.now();
  // A step resumed after a pause (short of data, undecided) gets another --max-inconclusive.
  const resumedAt = Math.max(
    -Infinity,
    ...state.decisions
      .filter((d) => d.step === state.stepIndex + 1 && d.verdict === "approved")
      .map((d) => d.at),
  );
  for (let first = true; ; first = false) {
    if (signal?.aborted) return { kind: "stopped", by: "interrupt", release: state };
    const latest = first ? state : await ports.releases.read();
    if (
      latest?.id !== state.id ||
      latest.phase !== "gating" ||
      latest.stepIndex !== state.stepIndex
    ) {
      return { kind: "stopped", by: "another command", release: latest };
    }
    const now = clock.now();
    const ctx: GateContext = {
      release: latest,
      step,
      stepIndex: state.stepIndex,
      outputs,
      now,
      elapsedMs: now - stepStartedAt,
    };
    const results = await Promise.all(gates.map((gate) => checkGate(gate, ctx)));
    ports.report({ type: "gates", release: latest, results, elapsedMs: ctx.elapsedMs });
    const failed = results.filter((r) => r.verdict === "fail");
    if (failed.length > 0) {
      return { kind: "fail", reason: failed.map((r) => `${r.gate}: ${r.reason}`).join("; ") };
    }
    const waiting = results.filter((r) => r.verdict === "inconclusive");
    if (waiting.length === 0) {
      const kept = withKept(latest, results);
      const reason = results.map((r) => `${r.gate}: ${r.reason}`).join("; ");
      if (!state.gates.manual || latest.approvedSteps.includes(state.stepIndex)) {
        return { kind: "pass", release: kept, reason };
      }
      await record.beforeWait();
      const answer = await ports.approver.ask(ctx);
      if (answer === "approved") {
        return { kind: "pass", release: await record.approved(kept), reason };
      }
      if (answer === "rejected") return { kind: "fail", reason: "manual: rejected at the prompt" };
      return { kind: "pause", reason: "awaiting a person's approval", release: latest };
    }
    const overdue = Math.min(ctx.elapsedMs - step.bakeMs - allowedMs, now - resumedAt - allowedMs);
    if (overdue >= 0) {
      const delay = dataDelayMs > 0 ? ` + ${formatDuration(dataDelayMs)} data delay` : "";
      // Short of data, or undecided: the evidence leans towards a regression without reaching
      // the fail threshold. Neither says the canary is bad, and more data settle both; an
      // inconclusive verdict is not a failed one (Argo Rollouts pauses on an Inconclusive
      // analysis run alike: docs/features/analysis.md, "Inconclusive Runs").
      const open = waiting.map((r) => r.shortOfData ?? r.undecided);
      if (open.every((o) => o !== undefined) && state.gates.onInconclusive === "pause") {
        const allShort = waiting.every((r) => r.shortOfData !== undefined);
        const remedies = [...new Set(open.flatMap((o) => o?.remedies ?? []))];
        return {
          kind: "pause",
          gate: waiting[0].gate,
          release: latest,
          reason:
            `${allShort ? "too little data" : "undecided"} after ${formatDuration(ctx.elapsedMs)} (bake ` +
            `${formatDuration(step.bakeMs)} + ${formatDuration(state.gates.maxInconclusiveMs)} ` +
            `allowed${delay}): ` +
            waiting.map((r, i) => `${r.gate}: ${open[i]?.reason}`).join("; ") +
            `. Remedies: ${remedies.join("; ")}`,
        };
      }
      return {
        kind: "fail",
        reason:
          `inconclusive for ${formatDuration(ctx.elapsedMs)} (bake ${formatDuration(step.bakeMs)} + ` +
          `${formatDuration(state.gates.maxInconclusiveMs)} allowed${delay}): ` +
          waiting.map((r) => `${r.gate}: ${r.reason}`).join("; "),
      };
    }
    await record.beforeWait();
    await clock.sleep(Math.min(state.gates.intervalMs, -overdue), signal);
  }
}

/**
 * Refuses, before anything is written, a release whose probe sends a header (its pre-traffic
 * check) that the stack's header route would not match: the probe would reach the stable
 * version only and roll back a release it never saw.
 */
export function checkPreTrafficRoute(gates: GateSettings, canaryHeader?: CanaryHeader): void {
  const sent = (gates.probe as { header?: CanaryHeader } | undefined)?.header;
  if (sent === undefined) return;
  const routed =
    canaryHeader !== undefined &&
    canaryHeader.name.toLowerCase() === sent.name.toLowerCase() &&
    headerValueMatches(canaryHeader.value, sent.value);
  if (!routed) {
    const setting = canaryHeader ? `"${formatCanaryHeader(canaryHeader)}"` : "empty";
    throw new UsageError(
      `invalid --probe-header "${formatCanaryHeader(sent)}": the stack's canaryHeader is ${setting}, ` +
        `so the probe would not reach the canary; set canaryHeader to it first`,
    );
  }
}

export type PreTrafficVerdict =
  | { kind: "none" }
  | { kind: "pass"; reason: string }
  | { kind: "fail"; reason: string };

/**
 * The pre-traffic check: the gates that can reach the canary alone (see Gate.preTraffic) run
 * once, with the new version deployed at weight 0 and before the first step moves any user
 * traffic. An inconclusive result fails too: nobody has been served by the version yet, so a
 * rollback costs no user anything, and no data never passes.
 */
export async function preTrafficCheck(
  state: ReleaseState,
  outputs: StackOutputs,
  ports: ReleasePorts,
): Promise<PreTrafficVerdict> {
  const gates = ports.gates(state.gates, outputs).filter((g) => g.preTraffic === true);
  if (gates.length === 0) return { kind: "none" };
  const ctx: GateContext = {
    release: state,
    step: { weight: 0, bakeMs: 0 },
    stepIndex: state.stepIndex,
    outputs,
    now: ports.clock.now(),
    elapsedMs: 0,
  };
  const results = await Promise.all(gates.map((gate) => checkGate(gate, ctx)));
  ports.report({ type: "gates", release: state, results, elapsedMs: 0 });
  const reason = results.map((r) => `${r.gate}: ${r.reason}`).join("; ");
  const passed = results.every((r) => r.verdict === "pass");
  return { kind: passed ? "pass" : "fail", reason: `pre-traffic check at 0%: ${reason}` };
}

/** The release with what the passing gates keep for later steps (GateResult.keep). */
function withKept(release: ReleaseState, results: GateResult[]): ReleaseState {
  const keeping = results.filter((r) => r.keep !== undefined);
  if (keeping.length === 0) return release;
  const gateMemory = { ...release.gateMemory };
  for (const r of keeping) gateMemory[r.gate] = r.keep;
  return { ...release, gateMemory };
}

async function checkGate(gate: Gate, ctx: GateContext): Promise<GateResult> {
  try {
    return await gate.check(ctx);
  } catch (err) {
    // A gate that cannot read its data has no evidence either way: hold, never pass.
    return {
      gate: gate.name,
      verdict: "inconclusive",
      reason: `could not check: ${(err as Error).message}`,
    };
  }
}
