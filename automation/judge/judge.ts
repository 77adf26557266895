/**
 * The canary judge: the error-rate and latency sequential tests together.
 * fail if any enabled test fails; pass only if every enabled test passes; inconclusive otherwise.
 * In a step where the stable served nothing (100 %) the latency test has nothing to pair with and
 * sits out; the error-rate test then compares the canary with the stable's earlier rate.
 */
import {
  ErrorRateOptions,
  ErrorRateResult,
  ErrorRateState,
  ErrorRateSummary,
  errorRateShortOfRequests,
  errorRateUndecided,
  errorRateVerdict,
  evaluateErrorRate,
  initErrorRate,
  resumeErrorRate,
  updateErrorRate,
} from "./errorRate";
import {
  evaluateLatency,
  initLatency,
  latencyShortOfPairs,
  latencyUndecided,
  LatencyOptions,
  LatencyResult,
  LatencyState,
  latencyVerdict,
  updateLatency,
} from "./latency";
import { Interval } from "../metrics/interval";
import { checkInterval, JudgeInputError, JudgeResult, Verdict } from "./types";

export interface JudgeOptions {
  /** Error-rate test options (defaults in DEFAULT_ERROR_RATE_OPTIONS), or false to skip it. */
  errorRate?: Partial<ErrorRateOptions> | false;
  /** Latency test options (defaults in DEFAULT_LATENCY_OPTIONS), or false to skip it. */
  latency?: Partial<LatencyOptions> | false;
}

export interface JudgeState {
  kind: "judge";
  lastStart: number | null;
  errorRate: ErrorRateState | null;
  latency: LatencyState | null;
}

export interface JudgeDetails {
  errorRate: ErrorRateResult | null;
  latency: LatencyResult | null;
}

export type CanaryJudgeResult = JudgeResult<JudgeDetails>;

export function initJudge(options: JudgeOptions = {}): JudgeState {
  const errorRate = options.errorRate === false ? null : initErrorRate(options.errorRate ?? {});
  const latency = options.latency === false ? null : initLatency(options.latency ?? {});
  if (errorRate === null && latency === null) {
    throw new JudgeInputError("judge needs errorRate or latency enabled, got both false");
  }
  return { kind: "judge", lastStart: null, errorRate, latency };
}

/**
 * A judge that goes on from an error-rate summary of the release's earlier steps (the last step's
 * baseline); the latency test starts afresh.
 */
export function resumeJudge(summary: ErrorRateSummary, options: JudgeOptions = {}): JudgeState {
  if (options.errorRate === false) {
    throw new JudgeInputError("resumeJudge needs the error-rate test, got errorRate false");
  }
  const latency = options.latency === false ? null : initLatency(options.latency ?? {});
  return {
    kind: "judge",
    lastStart: summary.lastStart,
    errorRate: resumeErrorRate(summary, options.errorRate ?? {}),
    latency,
  };
}

/**
 * How many intervals of the stable's history before the first step a caller should fold in
 * (foldStableHistory): its dispersion from 15 minutes of its own traffic (the same version: the
 * colour that is stable now served it then too). `npm run bench:judge` with 3, 10, 15, 20 of
 * them: per-colour Beta noise 3.4, 2.5, 2.0, 2.1 % of good canaries failed; bursts on both
 * colours 2.9, 2.1, 1.9, 1.3 %; 1 % -> 2 % at 10 % caught in 3 / 5 min in each.
 */
export const STABLE_HISTORY_INTERVALS = 15;

/** The step value the stable's history is folded in with (foldStableHistory). */
export const HISTORY_STEP = -1;

/**
 * Folds the stable's intervals from before the first step (the release's deploy, at weight 0)
 * into a fresh judge, before any interval of a step. Only the error-rate test takes them, with
 * the canary's counts left out (a pre-traffic probe's requests are not user traffic), as step
 * HISTORY_STEP: they give no evidence and count towards no step, only the stable's counts. Its
 * dispersion is then estimated from the first interval of the first step on, where it used to
 * be taken as 0 until 3 stable intervals had been seen (so a wandering rate's first minutes
 * weighed as binomial), and the last step's baseline counts them too. Latency has no pair there.
 */
export function foldStableHistory(state: JudgeState, intervals: readonly Interval[]): JudgeState {
  if (state.lastStart !== null) {
    throw new JudgeInputError(
      "foldStableHistory needs a judge that has folded no interval yet: history comes first",
    );
  }
  let next = state;
  for (const i of intervals) {
    checkInterval(i, next.lastStart);
    const history: Interval = {
      start: i.start,
      step: HISTORY_STEP,
      stable: { ...i.stable },
      canary: { requests: 0 },
    };
    next = {
      ...next,
      lastStart: i.start,
      errorRate: next.errorRate && updateErrorRate(next.errorRate, history),
    };
  }
  return next;
}

/** Folds one interval into every enabled test; returns a new state. */
export function updateJudge(state: JudgeState, interval: Interval): JudgeState {
  checkInterval(interval, state.lastStart);
  return {
    kind: "judge",
    lastStart: interval.start,
    errorRate: state.errorRate && updateErrorRate(state.errorRate, interval),
    latency: state.latency && updateLatency(state.latency, interval),
  };
}

function combine(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.includes("fail")) return "fail";
  if (verdicts.every((v) => v === "pass")) return "pass";
  return "inconclusive";
}

/**
 * Whether latency sits out: the error-rate test is on and the current step's stable served
 * nothing (nothing to pair with), while a failed latency test still counts.
 */
function latencySitsOut(state: JudgeState): boolean {
  const step = state.errorRate?.step;
  return (
    step !== null &&
    step !== undefined &&
    step.stable.requests === 0 &&
    state.latency !== null &&
    state.latency.failed === null
  );
}

/** The verdict alone, cheaply (what evaluateJudge would say). */
export function judgeVerdict(state: JudgeState): Verdict {
  const verdicts: Verdict[] = [];
  if (state.errorRate) verdicts.push(errorRateVerdict(state.errorRate));
  if (state.latency && !latencySitsOut(state)) verdicts.push(latencyVerdict(state.latency));
  return combine(verdicts);
}

/**
 * Whether the step is held for want of data: some enabled test still lacks the minimum sample
 * of the step (canary requests, or intervals with a p99 for both colours).
 */
export function judgeShortOfData(state: JudgeState): boolean {
  if (state.errorRate && errorRateShortOfRequests(state.errorRate)) return true;
  return state.latency !== null && !latencySitsOut(state) && latencyShortOfPairs(state.latency);
}

/**
 * Whether the step is undecided: inconclusive with every minimum sample reached, and each test
 * that does not pass held by its evidence alone (above the pass level, below 1/alpha). The data
 * lean towards a regression without showing one; both tests stay valid however long they run,
 * so more data settle it either way. Not while baking, nor short of data (judgeShortOfData).
 */
export function judgeUndecided(state: JudgeState): boolean {
  if (judgeVerdict(state) !== "inconclusive" || judgeShortOfData(state)) return false;
  const held: boolean[] = [];
  if (state.errorRate && errorRateVerdict(state.errorRate) !== "pass") {
    held.push(errorRateUndecided(state.errorRate));
  }
  if (state.latency && !latencySitsOut(state) && latencyVerdict(state.latency) !== "pass") {
    held.push(latencyUndecided(state.latency));
  }
  return held.length > 0 && held.every((h) => h);
}

export function evaluateJudge(state: JudgeState): CanaryJudgeResult {
  const errorRate = state.errorRate && evaluateErrorRate(state.errorRate);
  const latency = state.latency && !latencySitsOut(state) ? evaluateLatency(state.latency) : null;
  const parts = [errorRate, latency].filter(
    (r): r is ErrorRateResult | LatencyResult => r !== null,
  );
  const verdict = combine(parts.map((r) => r.verdict));
  // Lead with the parts that decided: the failing ones for fail, the undecided ones otherwise.
  const decisive = verdict === "pass" ? parts : parts.filter((r) => r.verdict === verdict);
  const rest = parts.filter((r) => !decisive.includes(r));
  const reason = [...decisive, ...rest].map((r) => r.reason).join(" | ");
  return { verdict, reason: `canary ${verdict}: ${reason}`, details: { errorRate, latency } };
}

/** All intervals at once; equal to folding updateJudge over them and evaluating. */
export function judge(
  intervals: readonly Interval[],
  options: JudgeOptions = {},
): CanaryJudgeResult {
  return evaluateJudge(intervals.reduce(updateJudge, initJudge(options)));
}
