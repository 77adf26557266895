/**
 * Runs the judge and the two threshold gates on the same simulated releases and collects, per
 * scenario and gate: how often it rolled back, when (minutes), and how many failed requests the
 * canary had served by then. The release follows its schedule whatever the gates say (a pass
 * does not shorten a step); a gate's first "fail" is its rollback. Gates are driven through the
 * public update functions and the cheap verdict functions (the verdict evaluate* would give,
 * without formatting its reason every minute).
 */
import {
  foldStableHistory,
  initJudge,
  STABLE_HISTORY_INTERVALS,
  JudgeOptions,
  JudgeState,
  judgeVerdict,
  updateJudge,
} from "../../../automation/judge/judge";
import {
  argoThresholds,
  flaggerThresholds,
  initThresholds,
  ThresholdOptions,
  ThresholdState,
  thresholdsVerdict,
  updateThresholds,
} from "../../../automation/judge/thresholds";
import { Interval } from "../../../automation/metrics/interval";
import { Random } from "./random";
import {
  CONSTANT_10,
  horizon,
  LATENCY,
  Scenario,
  simulate,
  stableHistory,
  STANDARD_SCHEDULE,
} from "./simulate";

/** p99 ceiling of the threshold gates where latency is watched: 1.25 x the normal p99. */
export const P99_CEILING_MS = 1.25 * LATENCY.baseP99Ms;

export const SCENARIOS: readonly Scenario[] = [
  {
    id: "good-1",
    title: "good: 1 % vs 1 % errors",
    kind: "good",
    metrics: "errors",
    rps: 100,
    schedule: STANDARD_SCHEDULE,
    errors: { stable: 0.01, canary: 0.01 },
    latency: LATENCY,
  },
  {
    id: "good-0.1",
    title: "good: 0.1 % vs 0.1 % errors",
    kind: "good",
    metrics: "errors",
    rps: 100,
    schedule: STANDARD_SCHEDULE,
    errors: { stable: 0.001, canary: 0.001 },
    latency: LATENCY,
  },
  {
    id: "bursty-shared",
    title: "good, bursty, bursts hit both",
    kind: "good",
    metrics: "errors",
    rps: 100,
    schedule: STANDARD_SCHEDULE,
    errors: {
      stable: 0.002,
      canary: 0.002,
      bursts: { mode: "shared", startProbability: 0.03, maxMinutes: 3, factor: 15 },
      overdispersionShape: 10,
    },
    latency: LATENCY,
  },
  {
    id: "bursty-group",
    title: "good, bursty, bursts per colour",
    kind: "good",
    metrics: "errors",
    rps: 100,
    schedule: STANDARD_SCHEDULE,
    errors: {
      stable: 0.002,
      canary: 0.002,
      bursts: { mode: "perGroup", startProbability: 0.03, maxMinutes: 3, factor: 15 },
      overdispersionShape: 10,
    },
    latency: LATENCY,
  },
  {
    id: "good-all",
    title: "good: 0.1 % errors + p99 noise",
    kind: "good",
    metrics: "all",
    rps: 100,
    schedule: STANDARD_SCHEDULE,
    errors: { stable: 0.001, canary: 0.001 },
    latency: LATENCY,
  },
  {
    id: "1-2",
    title: "1 % -> 2 % errors",
    kind: "regression",
    metrics: "errors",
    rps: 100,
    schedule: STANDARD_SCHEDULE,
    errors: { stable: 0.01, canary: 0.02 },
    latency: LATENCY,
  },
  {
    id: "1-2-w10",
    title: "1 % -> 2 % errors, weight 10 %",
    kind: "regression",
    metrics: "errors",
    rps: 100,
    schedule: CONSTANT_10,
    errors: { stable: 0.01, canary: 0.02 },
    latency: LATENCY,
  },
  {
    id: "0.1-1.1",
    title: "0.1 % -> 1.1 % errors",
    kind: "regression",
    metrics: "errors",
    rps: 100,
    schedule: STANDARD_SCHEDULE,
    errors: { stable: 0.001, canary: 0.011 },
    latency: LATENCY,
  },
  {
    id: "0.1-0.2",
    title: "0.1 % -> 0.2 % errors",
    kind: "regression",
    metrics: "errors",
    rps: 100,
    schedule: STANDARD_SCHEDULE,
    errors: { stable: 0.001, canary: 0.002 },
    latency: LATENCY,
  },
  {
    id: "p99-1.5",
    title: "p99 x 1.5 (0.1 % errors)",
    kind: "regression",
    metrics: "all",
    rps: 100,
    schedule: STANDARD_SCHEDULE,
    errors: { stable: 0.001, canary: 0.001 },
    latency: { ...LATENCY, canaryFactor: 1.5 },
  },
];

/** The last part of the seed of a release's stable history (its own stream). */
export const HISTORY_STREAM = 0x4849;

/** A gate as the benchmark drives it: fold an interval, say whether it fails now. */
interface Gate {
  step(interval: Interval): boolean;
}

export interface Contender {
  id: string;
  title: string;
  /** history: the stable's intervals before the first step, for a gate that reads them. */
  create(s: Scenario, history: readonly Interval[]): Gate;
}

export function judgeOptionsFor(s: Scenario): JudgeOptions {
  return s.metrics === "errors" ? { latency: false } : {};
}

export function flaggerOptionsFor(s: Scenario): ThresholdOptions {
  return flaggerThresholds(s.metrics === "errors" ? {} : { p99MaxMs: P99_CEILING_MS });
}

export function argoOptionsFor(s: Scenario): ThresholdOptions {
  return argoThresholds(s.metrics === "errors" ? {} : { p99MaxMs: P99_CEILING_MS });
}

function thresholdGate(options: ThresholdOptions): Gate {
  let state: ThresholdState = initThresholds(options);
  return {
    step(interval) {
      state = updateThresholds(state, interval);
      return thresholdsVerdict(state) === "fail";
    },
  };
}

export const CONTENDERS: readonly Contender[] = [
  {
    id: "judge",
    title: "judge (sequential)",
    create(s, history) {
      // As the metrics gate does: the stable's intervals before the first step come first.
      let state: JudgeState = foldStableHistory(initJudge(judgeOptionsFor(s)), history);
      return {
        step(interval) {
          state = updateJudge(state, interval);
          return judgeVerdict(state) === "fail";
        },
      };
    },
  },
  {
    id: "flagger",
    title: "Flagger-style (>=99 %, 5 checks)",
    create: (s) => thresholdGate(flaggerOptionsFor(s)),
  },
  {
    id: "argo",
    title: "Argo-style (<=1 %, limit 3)",
    create: (s) => thresholdGate(argoOptionsFor(s)),
  },
];

export interface Outcome {
  /** Minute (1-based) of the check that rolled back, or null if it never did. */
  minute: number | null;
  /** Failed requests the canary served up to and including that minute (or the horizon). */
  canaryErrors: number;
}

export interface ScenarioResult {
  scenario: Scenario;
  runs: number;
  horizonMinutes: number;
  outcomes: Record<string, Outcome[]>;
}

/** Runs every contender on `runs` releases of the scenario; run r uses seed (seed, index, r). */
export function runScenario(
  s: Scenario,
  index: number,
  runs: number,
  seed: number,
  contenders: readonly Contender[] = CONTENDERS,
): ScenarioResult {
  const outcomes: Record<string, Outcome[]> = {};
  for (const c of contenders) outcomes[c.id] = [];
  for (let r = 0; r < runs; r++) {
    const trace = simulate(s, new Random(seed, index, r));
    const history = stableHistory(
      s,
      new Random(seed, index, r, HISTORY_STREAM),
      STABLE_HISTORY_INTERVALS,
    );
    for (const c of contenders) {
      const gate = c.create(s, history);
      let served = 0;
      let minute: number | null = null;
      for (let t = 0; t < trace.length; t++) {
        served += trace[t].canary.errors ?? 0;
        if (gate.step(trace[t])) {
          minute = t + 1;
          break;
        }
      }
      outcomes[c.id].push({ minute, canaryErrors: served });
    }
  }
  return { scenario: s, runs, horizonMinutes: horizon(s.schedule), outcomes };
}

export function runBenchmark(runs: number, seed: number): ScenarioResult[] {
  return SCENARIOS.map((s, i) => runScenario(s, i, runs, seed));
}

/** Nearest-rank quantile of a list (Infinity allowed). */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)];
}

export interface Summary {
  rolledBack: number;
  minuteMedian: number;
  minuteP90: number;
  errorsMedian: number;
  errorsP90: number;
}

export function summarise(outcomes: readonly Outcome[]): Summary {
  const minutes = outcomes.map((o) => o.minute ?? Infinity);
  const errors = outcomes.map((o) => o.canaryErrors);
  return {
    rolledBack: outcomes.filter((o) => o.minute !== null).length / outcomes.length,
    minuteMedian: quantile(minutes, 0.5),
    minuteP90: quantile(minutes, 0.9),
    errorsMedian: quantile(errors, 0.5),
    errorsP90: quantile(errors, 0.9),
  };
}
