import { Outcome, ReleasePorts } from "./ports";
import { currentWeight, Decision, ReleaseState, withDecision } from "./state";

/**
 * A release's record as it moves: states stamped and written to the store before the work they
 * name, decisions and outcomes reported as they are made.
 */
export class Recorder {
  /** A state to record with the release's next write, or before the run waits (defer). */
  private deferred?: ReleaseState;

  constructor(private readonly ports: Pick<ReleasePorts, "releases" | "clock" | "report">) {}

  /** The state as it is recorded now; it supersedes a deferred one. */
  stamp(state: ReleaseState): ReleaseState {
    this.deferred = undefined;
    return { ...state, updatedAt: this.ports.clock.now() };
  }

  async save(state: ReleaseState): Promise<void> {
    await this.ports.releases.write(this.stamp(state));
  }

  /**
   * Records `state` with the release's next write, or by `flush` before the run waits: one
   * write less for a step that passes at its first check. Only for a state that a run killed
   * before recording it can redo from the record before it (the gating of a step whose update
   * is done: the resumed run applies the step's weight again, which changes nothing, and bakes
   * the step anew).
   */
  defer(state: ReleaseState): void {
    this.deferred = state;
  }

  /** Writes the deferred state, if any. */
  async flush(): Promise<void> {
    if (this.deferred !== undefined) await this.save(this.deferred);
  }

  /** The state with one more decision (the last 50 are kept), reported. */
  decide(
    state: ReleaseState,
    gate: string,
    verdict: Decision["verdict"],
    reason: string,
  ): ReleaseState {
    const decision: Decision = {
      at: this.ports.clock.now(),
      step: state.stepIndex + 1,
      weight: currentWeight(state),
      gate,
      verdict,
      reason,
    };
    const next = withDecision(state, decision);
    this.ports.report({ type: "decision", release: next, decision });
    return next;
  }

  finish(outcome: Outcome): Outcome {
    this.ports.report({ type: "outcome", outcome });
    return outcome;
  }
}
