import { formatDuration } from "../release/duration";
import { Gate, GateContext, GateResult } from "../release/ports";

/** Holds a step for its bake time. */
export class BakeGate implements Gate {
  readonly name = "bake";

  async check({ step, elapsedMs }: GateContext): Promise<GateResult> {
    if (elapsedMs >= step.bakeMs) {
      return { gate: this.name, verdict: "pass", reason: `baked ${formatDuration(step.bakeMs)}` };
    }
    return {
      gate: this.name,
      verdict: "inconclusive",
      reason: `baking: ${formatDuration(step.bakeMs - elapsedMs)} left of ${formatDuration(step.bakeMs)}`,
      details: { remainingMs: step.bakeMs - elapsedMs },
    };
  }
}
