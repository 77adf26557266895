import { duration, durationAtLeast, FlagValues } from "./definition";

/** The gate loop checks a step at most once a second. */
export const MIN_INTERVAL_MS = 1000;

const FLAGS = {
  maxInconclusive: {
    type: "string",
    default: "10m",
    describe:
      "Roll back when a step stays inconclusive this long past its bake (default {default})",
  },
  interval: {
    type: "string",
    default: "15s",
    describe: "How often gates are checked while a step holds (default {default})",
  },
} as const;

/** How the release engine runs the gates of a step: how often, and how long it waits for a verdict. */
export interface GateLoopSettings {
  /** How long a step may stay inconclusive past its bake time before the release rolls back. */
  maxInconclusiveMs: number;
  /** How often gates are evaluated while a step holds. */
  intervalMs: number;
}

/** The settings of the loop that runs the gates, not of one gate; flags as the gates'. */
export const gateLoop = {
  flags: FLAGS,
  settings(values: FlagValues<typeof FLAGS>): GateLoopSettings {
    return {
      maxInconclusiveMs: duration(
        "maxInconclusive",
        values.maxInconclusive ?? FLAGS.maxInconclusive.default,
      ),
      intervalMs: durationAtLeast(
        "interval",
        values.interval ?? FLAGS.interval.default,
        MIN_INTERVAL_MS,
        "the gates are checked at most once a second",
      ),
    };
  },
};
