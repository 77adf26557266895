import { UsageError } from "../release/errors";
import { duration, durationAtLeast, FlagValues } from "./definition";

const ON_INCONCLUSIVE = ["pause", "rollback"] as const;
type OnInconclusive = (typeof ON_INCONCLUSIVE)[number];

/** The gate loop checks a step at most once a second. */
export const MIN_INTERVAL_MS = 1000;

const FLAGS = {
  maxInconclusive: {
    type: "string",
    default: "10m",
    describe:
      "How long a step may stay inconclusive past its bake; then --on-inconclusive applies to a step short of data or undecided by the judge's evidence, and any other rolls back (default {default})",
  },
  onInconclusive: {
    type: "string",
    default: "pause",
    describe:
      "A step still short of data (--min-requests), or undecided (the judge's evidence above its pass level, below its fail threshold), after --max-inconclusive: pause (exit 3; `promote` waits again, `abort` rolls back) or rollback (default {default})",
  },
  interval: {
    type: "string",
    default: "15s",
    describe: "How often gates are checked while a step holds (default {default})",
  },
} as const;

/** How the release engine runs the gates of a step: how often, and how long it waits for a verdict. */
export interface GateLoopSettings {
  /** How long a step may stay inconclusive past its bake time before onInconclusive applies. */
  maxInconclusiveMs: number;
  /** How often gates are evaluated while a step holds. */
  intervalMs: number;
  /** What a step still short of data or undecided past its bake and maxInconclusiveMs does. */
  onInconclusive: OnInconclusive;
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
      onInconclusive: onInconclusiveOf(values.onInconclusive ?? FLAGS.onInconclusive.default),
    };
  },
};

function onInconclusiveOf(raw: string): OnInconclusive {
  const found = ON_INCONCLUSIVE.find((v) => v === raw);
  if (found === undefined) {
    throw new UsageError(`invalid --on-inconclusive "${raw}": must be pause or rollback`);
  }
  return found;
}
