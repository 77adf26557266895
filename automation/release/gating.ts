import { formatDuration } from "./duration";
import { Gate, GateContext, GateResult, ReleasePorts } from "./ports";
import { ReleaseState } from "./state";

export type StepVerdict =
  /** `reason`: the gates' lines that passed the step, for the release's decisions. */
  | { kind: "pass"; release: ReleaseState; reason: string }
  | { kind: "fail"; reason: string }
  | { kind: "pause"; reason: string; release: ReleaseState }
  /** Ctrl-C, or the release was changed by another command (say, an abort) meanwhile. */
  | { kind: "stopped"; by: "interrupt" | "another command"; release?: ReleaseState };

/**
 * Runs the gates of the release's current step every `intervalMs` until they pass, one fails,
 * a person is needed, or the run stops. A person's approval at the prompt is recorded with
 * `approved` before the verdict passes.
 */
export async function gateStep(
  state: ReleaseState,
  ports: ReleasePorts,
  approved: (latest: ReleaseState) => Promise<ReleaseState>,
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
  for (;;) {
    if (signal?.aborted) return { kind: "stopped", by: "interrupt", release: state };
    const latest = await ports.releases.read();
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
      const reason = results.map((r) => `${r.gate}: ${r.reason}`).join("; ");
      if (!state.gates.manual || latest.approvedSteps.includes(state.stepIndex)) {
        return { kind: "pass", release: latest, reason };
      }
      const answer = await ports.approver.ask(ctx);
      if (answer === "approved") return { kind: "pass", release: await approved(latest), reason };
      if (answer === "rejected") return { kind: "fail", reason: "manual: rejected at the prompt" };
      return { kind: "pause", reason: "awaiting a person's approval", release: latest };
    }
    const overdue = ctx.elapsedMs - step.bakeMs - allowedMs;
    if (overdue >= 0) {
      const delay = dataDelayMs > 0 ? ` + ${formatDuration(dataDelayMs)} data delay` : "";
      return {
        kind: "fail",
        reason:
          `inconclusive for ${formatDuration(ctx.elapsedMs)} (bake ${formatDuration(step.bakeMs)} + ` +
          `${formatDuration(state.gates.maxInconclusiveMs)} allowed${delay}): ` +
          waiting.map((r) => `${r.gate}: ${r.reason}`).join("; "),
      };
    }
    await clock.sleep(Math.min(state.gates.intervalMs, -overdue), signal);
  }
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
