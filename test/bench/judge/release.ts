/**
 * Whole releases as the driver runs them with the CLI's defaults: steps 10/25/50/100 %, a
 * 5-minute bake, --max-inconclusive 10m, --min-requests 200, --error-ratio 1, the default
 * --latency-ratio. A step moves on when the judge passes it, the release rolls back when it
 * fails, and a step still inconclusive past bake + max-inconclusive + one interval of data delay
 * times out: it pauses when the judge is short of data or undecided (--on-inconclusive pause,
 * the default), and rolls back otherwise ("timed-out"). With --on-inconclusive rollback every
 * pause would be a rollback at the same minute, so one run gives the figures of both settings.
 * One check per one-minute interval (the default 15 s checks see a
 * new interval once a minute). The judge is folded interval by interval, which gives what the
 * metrics gate computes at each check from the release's intervals (and its kept summary at
 * 100 %).
 */
import {
  foldStableHistory,
  initJudge,
  STABLE_HISTORY_INTERVALS,
  JudgeOptions,
  JudgeState,
  judgeShortOfData,
  judgeUndecided,
  judgeVerdict,
  updateJudge,
} from "../../../automation/judge/judge";
import { errorRateVerdict } from "../../../automation/judge/errorRate";
import { latencyVerdict } from "../../../automation/judge/latency";
import { Interval } from "../../../automation/metrics/interval";
import { Random } from "./random";
import { HISTORY_STREAM } from "./run";
import { LATENCY, minuteSampler, Scenario, stableHistory } from "./simulate";

export const RELEASE_RUNS = 1000;

/** The driver's defaults the releases run with. */
export const DRIVER = {
  weights: [10, 25, 50, 100],
  bakeMinutes: 5,
  maxInconclusiveMinutes: 10,
  dataDelayMinutes: 1,
  minRequests: 200,
  errorRatio: 1,
} as const;

export function driverJudgeOptions(): JudgeOptions {
  return {
    errorRate: {
      allowedRatio: DRIVER.errorRatio,
      minCanaryRequests: DRIVER.minRequests,
      bakeMs: DRIVER.bakeMinutes * 60_000,
    },
    latency: { bakeMs: DRIVER.bakeMinutes * 60_000 },
  };
}

/**
 * paused-short: paused at a time-out for want of data; paused-undecided: paused at a time-out
 * with the sample complete and the evidence between the pass level and 1/alpha; timed-out:
 * rolled back at a time-out (held for another reason).
 */
export type ReleaseEnd = "promoted" | "failed" | "timed-out" | "paused-short" | "paused-undecided";

export interface ReleaseOutcome {
  end: ReleaseEnd;
  /** Minute (1-based) of the decision. */
  minute: number;
  /** Step index (0-based) of the decision, or the step count when promoted. */
  step: number;
  /** Which test failed (fail only). */
  by: "errors" | "latency" | null;
}

/** Kinds of release scenario, by what the target counts. */
export type ReleaseTarget =
  | { kind: "promoted"; min: number }
  | { kind: "falseRollbacks"; max: number }
  | { kind: "latencyFalseRollbacks"; max: number }
  | { kind: "falseRollbacksReported" }
  | { kind: "caughtBeforeFull"; min: number }
  | { kind: "caught"; min: number }
  | { kind: "pausedNotRolledBack" }
  | { kind: "failWithin"; minutes: number };

export interface ReleaseScenario extends Scenario {
  target: ReleaseTarget;
}

const base = { schedule: [], latency: LATENCY, metrics: "all" } as const;
const RAMP = { rps: 20, rampTo: 200, rampMinutes: 40 } as const;

export const RELEASE_SCENARIOS: readonly ReleaseScenario[] = [
  {
    ...base,
    ...RAMP,
    id: "r-good-1",
    title: "good, 1 % errors, 20->200 rps",
    kind: "good",
    errors: { stable: 0.01, canary: 0.01 },
    target: { kind: "promoted", min: 0.95 },
  },
  {
    ...base,
    ...RAMP,
    id: "r-beta",
    title: "good, 1 %, Beta noise per colour (k 1000)",
    kind: "good",
    errors: { stable: 0.01, canary: 0.01, betaConcentration: 1000 },
    target: { kind: "falseRollbacks", max: 0.05 },
  },
  {
    ...base,
    ...RAMP,
    id: "r-bursts-both",
    title: "good, 0.2 %, bursts hit both",
    kind: "good",
    errors: {
      stable: 0.002,
      canary: 0.002,
      bursts: { mode: "shared", startProbability: 0.03, maxMinutes: 3, factor: 15 },
      overdispersionShape: 10,
    },
    target: { kind: "falseRollbacks", max: 0.05 },
  },
  {
    ...base,
    ...RAMP,
    id: "r-bursts-one",
    title: "good, 0.2 %, bursts per colour",
    kind: "good",
    errors: {
      stable: 0.002,
      canary: 0.002,
      bursts: { mode: "perGroup", startProbability: 0.03, maxMinutes: 3, factor: 15 },
      overdispersionShape: 10,
    },
    target: { kind: "falseRollbacksReported" },
  },
  {
    ...base,
    ...RAMP,
    id: "r-1-3-full",
    title: "1 % -> 3 % at 100 % only",
    kind: "regression",
    errors: { stable: 0.01, canary: 0.01, canaryAtFull: 0.03 },
    target: { kind: "caught", min: 0.9 },
  },
  {
    ...base,
    ...RAMP,
    id: "r-broken",
    title: "canary answers 100 % 5xx",
    kind: "regression",
    errors: { stable: 0.01, canary: 1 },
    target: { kind: "failWithin", minutes: 2 },
  },
  {
    ...base,
    rps: 50,
    id: "r-p99-good",
    title: "good, p99 noise, 50 rps",
    kind: "good",
    errors: { stable: 0.001, canary: 0.001 },
    target: { kind: "latencyFalseRollbacks", max: 0.03 },
  },
  {
    ...base,
    rps: 50,
    id: "r-p99-2",
    title: "p99 x 2, 50 rps",
    kind: "regression",
    errors: { stable: 0.001, canary: 0.001 },
    latency: { ...LATENCY, canaryFactor: 2 },
    target: { kind: "caughtBeforeFull", min: 0.9 },
  },
  {
    ...base,
    rps: 50,
    id: "r-p99-1.5",
    title: "p99 x 1.5, 50 rps",
    kind: "regression",
    errors: { stable: 0.001, canary: 0.001 },
    latency: { ...LATENCY, canaryFactor: 1.5 },
    target: { kind: "caughtBeforeFull", min: 0.8 },
  },
  {
    ...base,
    rps: 0.5,
    rampTo: 2,
    rampMinutes: 60,
    id: "r-low",
    title: "good, 0.5->2 rps (low traffic)",
    kind: "good",
    errors: { stable: 0.01, canary: 0.01 },
    target: { kind: "pausedNotRolledBack" },
  },
];

/** Runs one release of the scenario with the driver's loop; see the top of this file. */
export function runRelease(
  s: Scenario,
  rng: Random,
  options: JudgeOptions = driverJudgeOptions(),
  promotes = 0,
  history: readonly Interval[] = [],
): ReleaseOutcome {
  const sample = minuteSampler(s, rng);
  let state: JudgeState = foldStableHistory(initJudge(options), history);
  let minute = 0;
  let promotesLeft = promotes;
  const timeout = DRIVER.bakeMinutes + DRIVER.maxInconclusiveMinutes + DRIVER.dataDelayMinutes;
  for (let step = 0; step < DRIVER.weights.length; step++) {
    let allowed = timeout;
    for (let elapsed = 1; ; elapsed++) {
      state = updateJudge(state, sample(minute, DRIVER.weights[step], step));
      minute++;
      const verdict = judgeVerdict(state);
      if (verdict === "fail") {
        const by = state.errorRate?.failedAt !== null ? "errors" : "latency";
        return { end: "failed", minute, step, by };
      }
      if (verdict === "pass") break;
      if (elapsed >= allowed) {
        const end: ReleaseEnd = judgeShortOfData(state)
          ? "paused-short"
          : judgeUndecided(state)
            ? "paused-undecided"
            : "timed-out";
        if (end !== "timed-out" && promotesLeft > 0) {
          // A person runs `promote` at once: the step waits another --max-inconclusive (plus the
          // data delay) from then, the judge going on from where it was.
          promotesLeft--;
          allowed = elapsed + DRIVER.maxInconclusiveMinutes + DRIVER.dataDelayMinutes;
          continue;
        }
        const latencyHeld = state.latency !== null && latencyVerdict(state.latency) !== "pass";
        const errorsHeld = state.errorRate !== null && errorRateVerdict(state.errorRate) !== "pass";
        return { end, minute, step, by: errorsHeld ? "errors" : latencyHeld ? "latency" : null };
      }
    }
  }
  return { end: "promoted", minute, step: DRIVER.weights.length, by: null };
}

export interface ReleaseSummary {
  runs: number;
  promoted: number;
  failed: number;
  failedByLatency: number;
  /** Rolled back at a time-out, held for another reason than want of data or evidence. */
  timedOut: number;
  /** Failed or timed out with the latency test the one that failed or held. */
  latencyRollbacks: number;
  /** Paused at a time-out: short of data, undecided. */
  pausedShort: number;
  pausedUndecided: number;
  /** Paused (either) with the latency test among those that held. */
  latencyPauses: number;
  /** Failed before the 100 % step. */
  failedBeforeFull: number;
  /** Paused (either) before the 100 % step. */
  pausedBeforeFull: number;
  minuteMedian: number;
  minuteMax: number;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.max(0, Math.ceil(q * s.length) - 1)];
}

export function runReleaseScenario(
  s: Scenario,
  index: number,
  runs: number,
  seed: number,
  options?: JudgeOptions,
  promotes = 0,
): ReleaseSummary {
  const outcomes: ReleaseOutcome[] = [];
  for (let r = 0; r < runs; r++) {
    const history = stableHistory(
      s,
      new Random(seed, 1000 + index, r, HISTORY_STREAM),
      STABLE_HISTORY_INTERVALS,
    );
    outcomes.push(runRelease(s, new Random(seed, 1000 + index, r), options, promotes, history));
  }
  const count = (f: (o: ReleaseOutcome) => boolean) => outcomes.filter(f).length / runs;
  const stopped = outcomes.filter((o) => o.end === "failed" || o.end === "timed-out");
  const paused = (o: ReleaseOutcome) => o.end === "paused-short" || o.end === "paused-undecided";
  const beforeFull = (o: ReleaseOutcome) => o.step < DRIVER.weights.length - 1;
  return {
    runs,
    promoted: count((o) => o.end === "promoted"),
    failed: count((o) => o.end === "failed"),
    failedByLatency: count((o) => o.end === "failed" && o.by === "latency"),
    timedOut: count((o) => o.end === "timed-out"),
    latencyRollbacks: count(
      (o) => (o.end === "failed" || o.end === "timed-out") && o.by === "latency",
    ),
    pausedShort: count((o) => o.end === "paused-short"),
    pausedUndecided: count((o) => o.end === "paused-undecided"),
    latencyPauses: count((o) => paused(o) && o.by === "latency"),
    failedBeforeFull: count((o) => o.end === "failed" && beforeFull(o)),
    pausedBeforeFull: count((o) => paused(o) && beforeFull(o)),
    minuteMedian: quantile(
      stopped.map((o) => o.minute),
      0.5,
    ),
    minuteMax: stopped.length === 0 ? NaN : Math.max(...stopped.map((o) => o.minute)),
  };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)} %`;
}

/** The figure a scenario's target is about, and the target, as printed. */
export function figureAndTarget(t: ReleaseTarget, r: ReleaseSummary): [string, string, boolean] {
  const rolledBack = r.failed + r.timedOut;
  const paused = r.pausedShort + r.pausedUndecided;
  // What --on-inconclusive rollback would give: every pause a rollback at the same minute.
  const withRollback = `${pct(rolledBack + paused)} with --on-inconclusive rollback`;
  switch (t.kind) {
    case "promoted":
      return [`${pct(r.promoted)} promoted`, `>= ${pct(t.min)}`, r.promoted >= t.min];
    case "falseRollbacks":
      return [
        `${pct(rolledBack)} rolled back, ${pct(paused)} paused (${withRollback})`,
        `<= ${pct(t.max)}`,
        rolledBack <= t.max,
      ];
    case "latencyFalseRollbacks":
      return [
        `${pct(r.latencyRollbacks)} by latency (${pct(rolledBack)} in all), ` +
          `${pct(r.latencyPauses)} paused by latency`,
        `<= ${pct(t.max)}`,
        r.latencyRollbacks <= t.max,
      ];
    case "falseRollbacksReported":
      return [`${pct(rolledBack)} rolled back, ${pct(paused)} paused`, "reported", true];
    case "caught":
      return [
        `${pct(r.failed)} failed, ${pct(paused)} paused`,
        `>= ${pct(t.min)}`,
        r.failed >= t.min,
      ];
    case "caughtBeforeFull":
      return [
        `${pct(r.failedBeforeFull)} failed before 100 % (${pct(r.failedByLatency)} by latency), ` +
          `${pct(r.pausedBeforeFull)} paused`,
        `>= ${pct(t.min)}`,
        r.failedBeforeFull >= t.min,
      ];
    case "pausedNotRolledBack":
      return [
        `${pct(r.pausedShort)} paused short of data, ${pct(r.timedOut)} timed out, ${pct(r.failed)} failed`,
        "0 % timed out",
        r.timedOut === 0,
      ];
    case "failWithin":
      return [
        `${pct(r.failed)} failed, latest at minute ${r.minuteMax}`,
        `all within ${t.minutes} min`,
        r.failed === 1 && r.minuteMax <= t.minutes,
      ];
  }
}

/**
 * What one `promote` at each pause gives, next to what the pauses were (the same releases: the
 * same seeds, so each run is the same up to its pause).
 */
export function formatAfterPromote(
  rows: { s: ReleaseScenario; r: ReleaseSummary; promoted: ReleaseSummary }[],
): string {
  return rows
    .map(({ s, r, promoted: p }) => {
      const paused = r.pausedShort + r.pausedUndecided;
      const again = p.pausedShort + p.pausedUndecided;
      return (
        `  ${s.title}: ${pct(paused)} paused; after one promote ${pct(p.promoted)} promoted ` +
        `(was ${pct(r.promoted)}), ${pct(p.failed + p.timedOut)} rolled back (was ` +
        `${pct(r.failed + r.timedOut)}), ${pct(again)} paused again`
      );
    })
    .join("\n");
}

export function formatReleaseTable(rows: { s: ReleaseScenario; r: ReleaseSummary }[]): string {
  const cells = rows.map(({ s, r }) => {
    const [figure, target, met] = figureAndTarget(s.target, r);
    const ends =
      `${pct(r.promoted)} / ${pct(r.failed)} / ${pct(r.pausedShort)} / ${pct(r.pausedUndecided)}` +
      ` / ${pct(r.timedOut)}` +
      (Number.isFinite(r.minuteMedian) ? ` (${r.minuteMedian} min)` : "");
    return [s.title, figure, target, met ? "yes" : "NO", ends];
  });
  const header = [
    "release scenario",
    "figure",
    "target",
    "met",
    "promoted / failed / paused: short, undecided / timed out",
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c
      .map((x, i) => x.padEnd(widths[i]))
      .join(" | ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("-+-"), ...cells.map(line)].join(
    "\n",
  );
}
