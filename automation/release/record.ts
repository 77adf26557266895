import { Outcome, ReleasePorts } from "./ports";
import { currentWeight, Decision, ReleaseState, withDecision } from "./state";

/**
 * A release's record as it moves: states stamped and written to the store before the work they
 * name, decisions and outcomes reported as they are made.
 */
export class Recorder {
  constructor(private readonly ports: Pick<ReleasePorts, "releases" | "clock" | "report">) {}

  /** The state as it is recorded now. */
  stamp(state: ReleaseState): ReleaseState {
    return { ...state, updatedAt: this.ports.clock.now() };
  }

  async save(state: ReleaseState): Promise<void> {
    await this.ports.releases.write(this.stamp(state));
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
