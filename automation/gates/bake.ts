import { formatDuration } from "../release/duration";
import { Gate, GateContext, GateResult } from "../release/ports";
import { GateDefinition } from "./definition";

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

/** Every step holds its bake time (--bake, or the step's own); the gate has no flag of its own. */
export const bakeDefinition: GateDefinition<"bake", Record<never, never>, undefined> = {
  name: "bake",
  flags: {},
  settings: () => undefined,
  always: true,
  build: () => new BakeGate(),
};
