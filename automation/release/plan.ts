import { formatDuration, parseDuration } from "./duration";
import { UsageError } from "./errors";

/** One step of a release: the canary's share of traffic and how long to hold it. */
export interface Step {
  weight: number;
  /** Minimum time the step is held while its gates run (ms). */
  bakeMs: number;
}

const minutes = (n: number) => n * 60_000;
const linear = (every: number): Step[] =>
  Array.from({ length: 10 }, (_, i) => ({ weight: (i + 1) * 10, bakeMs: minutes(every) }));

/** CodeDeploy's predefined ECS configurations, as step lists. */
export const PRESETS: Record<string, Step[]> = {
  Canary10Percent5Minutes: [
    { weight: 10, bakeMs: minutes(5) },
    { weight: 100, bakeMs: 0 },
  ],
  Canary10Percent15Minutes: [
    { weight: 10, bakeMs: minutes(15) },
    { weight: 100, bakeMs: 0 },
  ],
  Linear10PercentEvery1Minutes: linear(1),
  Linear10PercentEvery3Minutes: linear(3),
  AllAtOnce: [{ weight: 100, bakeMs: 0 }],
};

/**
 * Reads `--steps`: a preset name, or a comma-separated increasing list of
 * weights in 1..100, each optionally with its own bake time (`10:5m,50,100`).
 * Steps without their own bake time hold for `defaultBakeMs`.
 */
export function parseSteps(raw: string, defaultBakeMs: number): Step[] {
  const text = raw.trim();
  if (Object.hasOwn(PRESETS, text)) return PRESETS[text].map((s) => ({ ...s }));
  const allowed =
    "use increasing weights in 1..100 like 10,25,50,100 (optionally 10:5m for a bake time) " +
    `or a preset: ${Object.keys(PRESETS).join(", ")}`;
  if (text === "") throw new UsageError(`invalid --steps "": ${allowed}`);
  const steps = text.split(",").map((item): Step => {
    const [weightText, bakeText, extra] = item.trim().split(":");
    if (extra !== undefined || !/^\d+$/.test(weightText ?? "")) {
      throw new UsageError(
        `invalid --steps "${raw}": step "${item.trim()}" is not N or N:duration; ${allowed}`,
      );
    }
    const weight = Number(weightText);
    if (weight < 1 || weight > 100) {
      throw new UsageError(
        `invalid --steps "${raw}": weight ${weight} is outside 1..100; ${allowed}`,
      );
    }
    return {
      weight,
      bakeMs:
        bakeText === undefined
          ? defaultBakeMs
          : parseDuration(`bake time of step ${weight}`, bakeText),
    };
  });
  for (let i = 1; i < steps.length; i++) {
    if (steps[i].weight <= steps[i - 1].weight) {
      throw new UsageError(
        `invalid --steps "${raw}": weights must increase, but ${steps[i].weight} follows ${steps[i - 1].weight}`,
      );
    }
  }
  return steps;
}

export function describeSteps(steps: Step[]): string {
  return steps
    .map((s) => (s.bakeMs > 0 ? `${s.weight}%:${formatDuration(s.bakeMs)}` : `${s.weight}%`))
    .join(" -> ");
}
