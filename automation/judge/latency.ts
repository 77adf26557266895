/**
 * Latency, canary against stable: an always-valid sequential sign test on paired per-interval
 * p99 ratios.
 *
 * Pairing. Each interval in which both colours served requests and report a p99 gives one pair:
 * the canary's p99 c_i and the stable's s_i, measured over the same minute. Load swings, a slow
 * dependency or a busy host that both colours share move c_i and s_i together, so their ratio
 * keeps what belongs to the canary; an unpaired comparison would count them as noise.
 *
 * Test. X_i = 1 when c_i > allowedRatio * s_i, else 0 (a tie counts as 0). H0, "the canary is no
 * slower than allowed": in every interval, given everything before it, P(X_i = 1) <= 1/2 (the
 * canary's p99 is no more often above allowedRatio x the stable's than not: a statement about
 * the median of the per-interval ratio, with no assumption on the shape of its distribution).
 * For each alternative q_k > 1/2 the running product of (q_k / (1/2))^X_i ((1 - q_k) / (1/2))^(1 - X_i)
 * is a nonnegative supermartingale under H0: its expected factor is
 * P(X=1) (2 q_k - (2 - 2 q_k)) + 2 - 2 q_k <= 1 when P(X=1) <= 1/2. A mixture over the q_k with
 * prior weights summing to 1 is one too (Robbins 1970), so by Ville's inequality (Ville 1939)
 * P(evidence ever >= 1/alpha) <= alpha however often it is checked: the same argument as the
 * error-rate test's (errorRate.ts). The evidence runs over the whole release; the ratio of one
 * interval does not depend on the traffic weight, so steps need no special care.
 *
 * Small samples are on the safe side: the sample p99 of few requests is biased low (with n < 100
 * it is close to the sample maximum, whose median is below the true p99), so a canary with
 * little traffic looks faster, never slower.
 *
 * Verdicts.
 * - fail: the evidence reached 1/alpha at some interval (stays failed).
 * - pass: not failed, the step has run its bake time, it has at least minIntervals pairs, and the
 *   evidence is at most passMaxEvidence (default 1: the data favour "no slower than allowed" over
 *   the mixture of regressions). Absence of evidence does not pass: a canary above the ratio in
 *   most intervals drives the evidence above 1 and holds the step until it fails.
 * - inconclusive: otherwise.
 */
import { Interval } from "../metrics/interval";
import {
  advanceClock,
  checkInterval,
  checkOption,
  formatNumber,
  JudgeInputError,
  JudgeResult,
  StepClock,
  Verdict,
} from "./types";
import { mixtureLogEvidence } from "./errorRate";

/** One alternative of the mixture: P(canary above the allowed ratio) = q, with its prior weight. */
export interface SignAlternative {
  q: number;
  weight: number;
}

export interface LatencyOptions {
  /** The canary's p99 may be this many times the stable's. */
  allowedRatio: number;
  /** Fail when the evidence reaches 1/alpha; the false-fail probability is at most alpha. */
  alpha: number;
  /** The mixture over regressions: q in (1/2, 1), weights summing to 1. */
  alternatives: readonly SignAlternative[];
  /** Pairs (intervals) the step needs before it can pass. */
  minIntervals: number;
  /** Pass only when the evidence is at most this (1 = no support for a regression). */
  passMaxEvidence: number;
  /** How long the current step must have run before it can pass (ms). */
  bakeMs: number;
  /** Length of one interval (ms). */
  intervalMs: number;
}

/** Defaults, tuned on the benchmark in test/bench/judge: alpha 0.03, allowed ratio 1.2. */
export const DEFAULT_LATENCY_OPTIONS: Readonly<LatencyOptions> = Object.freeze({
  allowedRatio: 1.2,
  alpha: 0.03,
  alternatives: Object.freeze([
    { q: 0.7, weight: 0.2 },
    { q: 0.8, weight: 0.3 },
    { q: 0.9, weight: 0.3 },
    { q: 0.97, weight: 0.2 },
  ]),
  minIntervals: 3,
  passMaxEvidence: 1,
  bakeMs: 5 * 60_000,
  intervalMs: 60_000,
});

export interface LatencyState {
  kind: "latency";
  options: LatencyOptions;
  lastStart: number | null;
  intervals: number;
  /** Intervals without a usable pair (no requests or no p99 on either side). */
  missing: number;
  /** Per alternative: sum over pairs of the log likelihood ratio. */
  logLikelihoodRatios: number[];
  logEvidence: number;
  /** Pairs and pairs above the allowed ratio, over the release. */
  pairs: number;
  above: number;
  step: {
    clock: StepClock;
    pairs: number;
    above: number;
    /** log(c / s) of the step's pairs: sum, for the geometric mean ratio in the reason. */
    sumLogRatio: number;
  } | null;
  failed: { at: number; logEvidence: number; pairs: number; above: number } | null;
}

export interface LatencyDetails {
  allowedRatio: number;
  alpha: number;
  minIntervals: number;
  evidence: number;
  failThreshold: number;
  passMaxEvidence: number;
  pairs: number;
  above: number;
  intervals: number;
  missing: number;
  step: {
    id: number;
    elapsedMs: number;
    bakeMs: number;
    pairs: number;
    above: number;
    /** Geometric mean of the step's canary/stable p99 ratios, null without pairs. */
    meanRatio: number | null;
  } | null;
  failed: LatencyState["failed"];
}

export type LatencyResult = JudgeResult<LatencyDetails>;

export function resolveLatencyOptions(options: Partial<LatencyOptions> = {}): LatencyOptions {
  const o: LatencyOptions = { ...DEFAULT_LATENCY_OPTIONS, ...options };
  checkOption("latency.allowedRatio", o.allowedRatio, 0, Infinity, { openMin: true });
  checkOption("latency.alpha", o.alpha, 0, 1, { openMin: true, openMax: true });
  checkOption("latency.minIntervals", o.minIntervals, 1, Infinity, { integer: true });
  checkOption("latency.passMaxEvidence", o.passMaxEvidence, 0, 1 / o.alpha, { openMax: true });
  checkOption("latency.bakeMs", o.bakeMs, 0, Infinity);
  checkOption("latency.intervalMs", o.intervalMs, 0, Infinity, { openMin: true });
  if (!Array.isArray(o.alternatives) || o.alternatives.length === 0) {
    throw new JudgeInputError(
      `latency.alternatives must be a non-empty list of {q in (0.5, 1), weight > 0}, got ${JSON.stringify(o.alternatives)}`,
    );
  }
  let sum = 0;
  o.alternatives.forEach((a, i) => {
    checkOption(`latency.alternatives[${i}].q`, a.q, 0.5, 1, { openMin: true, openMax: true });
    checkOption(`latency.alternatives[${i}].weight`, a.weight, 0, 1, { openMin: true });
    sum += a.weight;
  });
  if (Math.abs(sum - 1) > 1e-9) {
    throw new JudgeInputError(`latency.alternatives weights must sum to 1, got ${sum}`);
  }
  return { ...o, alternatives: o.alternatives.map((a) => ({ q: a.q, weight: a.weight })) };
}

const SPEND = 6 / (Math.PI * Math.PI);

/**
 * The level of look k (from 1) of step j (from 1): alpha (6/pi^2)^2 / (j^2 k^2). These levels sum
 * to alpha over all steps and looks (the load balancer's signals spend their alpha this way).
 */
export function spentAlpha(alpha: number, stepIndex: number, look: number): number {
  return (alpha * SPEND * SPEND) / (stepIndex * stepIndex * look * look);
}

/** log of one pair's likelihood ratio under alternative q against q = 1/2. */
export function signLogLikelihoodRatio(above: boolean, q: number): number {
  return above ? Math.log(2 * q) : Math.log(2 * (1 - q));
}

export function initLatency(options: Partial<LatencyOptions> = {}): LatencyState {
  const o = resolveLatencyOptions(options);
  return {
    kind: "latency",
    options: o,
    lastStart: null,
    intervals: 0,
    missing: 0,
    logLikelihoodRatios: o.alternatives.map(() => 0),
    logEvidence: 0,
    pairs: 0,
    above: 0,
    step: null,
    failed: null,
  };
}

/** Folds one interval into the state; returns a new state (the argument is not changed). */
export function updateLatency(state: LatencyState, interval: Interval): LatencyState {
  checkInterval(interval, state.lastStart);
  const o = state.options;
  const { clock, newStep } = advanceClock(state.step?.clock ?? null, interval, o.intervalMs);
  const prev = newStep || state.step === null ? null : state.step;
  const c = interval.canary;
  const s = interval.stable;
  const usable =
    c.requests > 0 &&
    s.requests > 0 &&
    c.p99Ms !== undefined &&
    s.p99Ms !== undefined &&
    s.p99Ms > 0 &&
    c.p99Ms > 0;
  const above = usable && (c.p99Ms as number) > o.allowedRatio * (s.p99Ms as number);
  const logLikelihoodRatios = usable
    ? state.logLikelihoodRatios.map(
        (l, k) => l + signLogLikelihoodRatio(above, o.alternatives[k].q),
      )
    : state.logLikelihoodRatios.slice();
  const logEvidence = usable
    ? mixtureLogEvidence(
        o.alternatives.map((a) => ({ factor: a.q, weight: a.weight })),
        logLikelihoodRatios,
      )
    : state.logEvidence;
  const pairs = state.pairs + (usable ? 1 : 0);
  const aboveCount = state.above + (above ? 1 : 0);
  const crossing = state.failed === null && logEvidence >= Math.log(1 / o.alpha);
  return {
    kind: "latency",
    options: o,
    lastStart: interval.start,
    intervals: state.intervals + 1,
    missing: state.missing + (usable ? 0 : 1),
    logLikelihoodRatios,
    logEvidence,
    pairs,
    above: aboveCount,
    step: {
      clock,
      pairs: (prev?.pairs ?? 0) + (usable ? 1 : 0),
      above: (prev?.above ?? 0) + (above ? 1 : 0),
      sumLogRatio:
        (prev?.sumLogRatio ?? 0) +
        (usable ? Math.log((c.p99Ms as number) / (s.p99Ms as number)) : 0),
    },
    failed: crossing ? { at: interval.start, logEvidence, pairs, above: aboveCount } : state.failed,
  };
}

type LatencyCondition = "failed" | "fewIntervals" | "baking" | "evidence" | "pass";

function classifyLatency(state: LatencyState): { verdict: Verdict; condition: LatencyCondition } {
  const o = state.options;
  const step = state.step;
  if (state.failed !== null) return { verdict: "fail", condition: "failed" };
  if (step === null || step.pairs < o.minIntervals) {
    return { verdict: "inconclusive", condition: "fewIntervals" };
  }
  if (step.clock.lastEnd - step.clock.startedAt < o.bakeMs) {
    return { verdict: "inconclusive", condition: "baking" };
  }
  if (state.logEvidence > Math.log(o.passMaxEvidence)) {
    return { verdict: "inconclusive", condition: "evidence" };
  }
  return { verdict: "pass", condition: "pass" };
}

/** The verdict alone, cheaply (what evaluateLatency would say). */
export function latencyVerdict(state: LatencyState): Verdict {
  return classifyLatency(state).verdict;
}

/** Whether the step still lacks the pairs it needs before it can pass. */
export function latencyShortOfPairs(state: LatencyState): boolean {
  return classifyLatency(state).condition === "fewIntervals";
}

/** Whether the step is held only by evidence between the pass level and 1/alpha (see errorRate). */
export function latencyUndecided(state: LatencyState): boolean {
  return classifyLatency(state).condition === "evidence";
}

export function evaluateLatency(state: LatencyState): LatencyResult {
  const o = state.options;
  const step = state.step;
  const elapsedMs = step ? step.clock.lastEnd - step.clock.startedAt : 0;
  const meanRatio = step && step.pairs > 0 ? Math.exp(step.sumLogRatio / step.pairs) : null;
  const evidence = Math.exp(state.logEvidence);
  const details: LatencyDetails = {
    allowedRatio: o.allowedRatio,
    alpha: o.alpha,
    minIntervals: o.minIntervals,
    evidence,
    failThreshold: 1 / o.alpha,
    passMaxEvidence: o.passMaxEvidence,
    pairs: state.pairs,
    above: state.above,
    intervals: state.intervals,
    missing: state.missing,
    step: step
      ? {
          id: step.clock.id,
          elapsedMs,
          bakeMs: o.bakeMs,
          pairs: step.pairs,
          above: step.above,
          meanRatio,
        }
      : null,
    failed: state.failed,
  };
  const counts =
    `canary p99 above ${formatNumber(o.allowedRatio)} x the stable's in ${state.above} of ` +
    `${state.pairs} intervals` +
    (meanRatio !== null ? ` (this step's mean ratio ${formatNumber(meanRatio)})` : "");
  const ev = `evidence ${formatNumber(evidence)}`;
  const { verdict, condition } = classifyLatency(state);
  let why: string;
  switch (condition) {
    case "failed": {
      const f = state.failed as NonNullable<LatencyState["failed"]>;
      why =
        `evidence reached ${formatNumber(Math.exp(f.logEvidence))} >= 1/alpha = ` +
        `${formatNumber(1 / o.alpha)} at ${new Date(f.at).toISOString()} (${f.above} of ${f.pairs} above)`;
      break;
    }
    case "fewIntervals":
      why = `${ev}; ${step?.pairs ?? 0} intervals with p99 for both colours this step, needs ${o.minIntervals}`;
      break;
    case "baking":
      why = `${ev} < ${formatNumber(1 / o.alpha)}; step baked ${elapsedMs / 1000}s of ${o.bakeMs / 1000}s`;
      break;
    case "evidence":
      why =
        `${ev} is above the pass level ${formatNumber(o.passMaxEvidence)} and below ` +
        `1/alpha = ${formatNumber(1 / o.alpha)}`;
      break;
    case "pass":
      why = `${ev} <= ${formatNumber(o.passMaxEvidence)} after ${step?.pairs ?? 0} pairs this step`;
      break;
  }
  return { verdict, reason: `latency ${verdict}: ${counts}; ${why}`, details };
}

export function judgeLatency(
  intervals: readonly Interval[],
  options: Partial<LatencyOptions> = {},
): LatencyResult {
  return evaluateLatency(intervals.reduce(updateLatency, initLatency(options)));
}
