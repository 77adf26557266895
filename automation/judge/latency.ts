/**
 * Latency, canary against stable: a one-sided Mann-Whitney rank test over the intervals of the
 * current step, as Kayenta's NetflixACAJudge classifies a metric (Mann-Whitney U of the canary's
 * values against the baseline's, with an allowed ratio).
 *
 * Each interval in which both colours served requests and report a p99 gives one canary value
 * c_i and one stable value s_j. The stable values are multiplied by the allowed ratio, and
 *   U = #{(i, j): c_i > ratio * s_j} + 0.5 #{(i, j): c_i = ratio * s_j}
 * is compared with its distribution when all m + n values are exchangeable (H0: the canary is
 * no slower than the stable times the allowed ratio). The p-value P(U >= u) is exact (the
 * distribution of U by its recurrence, Mann & Whitney 1947) when there are no ties and both
 * samples have at most EXACT_LIMIT values; otherwise the normal approximation with tie
 * correction and continuity correction is used.
 *
 * Continuous checking. A rank test checked every interval would reject a good canary far more
 * often than alpha. The judge spends alpha over the looks: look k of step j (both counted from 1)
 * rejects only if p <= alpha (6/pi^2)^2 / (j^2 k^2). These levels sum to alpha over all steps and
 * looks, so by the union bound P(any false fail in the release) <= alpha.
 *
 * Verdicts.
 * - fail: some look's p-value was at or below its spent level (stays failed).
 * - inconclusive: fewer than minIntervals pairs in the step, or the step has not baked, or the
 *   latest look has p <= alpha (suspicious, not proven).
 * - pass: enough pairs, baked, and the latest look has p > alpha.
 */
import { Interval } from "../metrics/interval";
import {
  advanceClock,
  checkInterval,
  checkOption,
  formatNumber,
  JudgeResult,
  StepClock,
  Verdict,
} from "./types";

export interface LatencyOptions {
  /** The canary's p99 may be this many times the stable's. */
  allowedRatio: number;
  /** Overall false-fail probability of a release, spent over steps and looks. */
  alpha: number;
  /** Pairs of values (intervals) the step needs before it can fail or pass. */
  minIntervals: number;
  /** How long the current step must have run before it can pass (ms). */
  bakeMs: number;
  /** Length of one interval (ms). */
  intervalMs: number;
}

export const DEFAULT_LATENCY_OPTIONS: Readonly<LatencyOptions> = Object.freeze({
  allowedRatio: 1.1,
  alpha: 0.05,
  minIntervals: 5,
  bakeMs: 5 * 60_000,
  intervalMs: 60_000,
});

/** Largest sample size for which the exact distribution of U is used. */
export const EXACT_LIMIT = 30;

export interface MannWhitneyResult {
  /** U of the canary against the scaled stable values (ties count one half). */
  u: number;
  m: number;
  n: number;
  /** One-sided p-value P(U >= u) under H0. */
  pValue: number;
  method: "exact" | "normal";
  /** The standardised statistic of the normal approximation (null when exact). */
  z: number | null;
  ties: boolean;
}

export interface LatencyLook extends MannWhitneyResult {
  /** The level this look was tested at: alpha spent on step j, look k. */
  alphaLook: number;
  stepIndex: number;
  look: number;
}

export interface LatencyState {
  kind: "latency";
  options: LatencyOptions;
  lastStart: number | null;
  intervals: number;
  /** Intervals without a usable pair (no requests or no p99 on either side). */
  missing: number;
  /** Number of steps seen, the current one included. */
  steps: number;
  step: {
    clock: StepClock;
    canary: number[];
    stable: number[];
    looks: number;
    last: LatencyLook | null;
  } | null;
  failed: { at: number; stepId: number; look: LatencyLook } | null;
}

export interface LatencyDetails {
  allowedRatio: number;
  alpha: number;
  minIntervals: number;
  intervals: number;
  missing: number;
  step: {
    id: number;
    elapsedMs: number;
    bakeMs: number;
    pairs: number;
    canaryMedianMs: number | null;
    stableMedianMs: number | null;
  } | null;
  /** The latest look of the current step. */
  last: LatencyLook | null;
  /** The look that failed, if any. */
  failed: { at: number; stepId: number; look: LatencyLook } | null;
}

export type LatencyResult = JudgeResult<LatencyDetails>;

export function resolveLatencyOptions(options: Partial<LatencyOptions> = {}): LatencyOptions {
  const o: LatencyOptions = { ...DEFAULT_LATENCY_OPTIONS, ...options };
  checkOption("latency.allowedRatio", o.allowedRatio, 0, Infinity, { openMin: true });
  checkOption("latency.alpha", o.alpha, 0, 1, { openMin: true, openMax: true });
  checkOption("latency.minIntervals", o.minIntervals, 2, Infinity, { integer: true });
  checkOption("latency.bakeMs", o.bakeMs, 0, Infinity);
  checkOption("latency.intervalMs", o.intervalMs, 0, Infinity, { openMin: true });
  return o;
}

const SPEND = 6 / (Math.PI * Math.PI);

/** The level of look k (from 1) of step j (from 1): alpha (6/pi^2)^2 / (j^2 k^2). */
export function spentAlpha(alpha: number, stepIndex: number, look: number): number {
  return (alpha * SPEND * SPEND) / (stepIndex * stepIndex * look * look);
}

/** erfc(x), absolute error below 1e-14 (series for |x| < 3, continued fraction beyond). */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 3) {
    // erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)): positive terms only.
    let term = x;
    let sum = x;
    for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated backward.
  let k = x;
  for (let n = 80; n >= 1; n--) k = x + n / 2 / k;
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * k);
}

/** P(Z >= z) for a standard normal Z. */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

const exactCache = new Map<string, Float64Array>();

/**
 * P(U = u), u = 0..mn, for samples of m and n exchangeable values without ties. Recurrence on the
 * largest value: it is one of the m (probability m/(m+n), and then beats all n) or one of the n.
 */
export function exactDistribution(m: number, n: number): Float64Array {
  const key = `${m},${n}`;
  const hit = exactCache.get(key);
  if (hit) return hit;
  let dist: Float64Array;
  if (m === 0 || n === 0) {
    dist = Float64Array.of(1);
  } else {
    const a = exactDistribution(m - 1, n);
    const b = exactDistribution(m, n - 1);
    dist = new Float64Array(m * n + 1);
    const pa = m / (m + n);
    const pb = n / (m + n);
    for (let u = 0; u < a.length; u++) dist[u + n] += pa * a[u];
    for (let u = 0; u < b.length; u++) dist[u] += pb * b[u];
  }
  exactCache.set(key, dist);
  return dist;
}

/**
 * One-sided Mann-Whitney test that the canary values are larger than ratio times the stable
 * values.
 */
export function mannWhitneyGreater(
  canary: readonly number[],
  stable: readonly number[],
  ratio = 1,
): MannWhitneyResult {
  const m = canary.length;
  const n = stable.length;
  if (m === 0 || n === 0) {
    return { u: 0, m, n, pValue: 1, method: "exact", z: null, ties: false };
  }
  const scaled = stable.map((s) => s * ratio);
  let u = 0;
  let ties = false;
  for (const c of canary) {
    for (const s of scaled) {
      if (c > s) u += 1;
      else if (c === s) {
        u += 0.5;
        ties = true;
      }
    }
  }
  // Ties inside one sample do not matter for U without cross ties, but do for the variance.
  const all = [...canary, ...scaled].sort((p, q) => p - q);
  let tieTerm = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1] === all[i]) j++;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  if (tieTerm === 0 && m <= EXACT_LIMIT && n <= EXACT_LIMIT) {
    const dist = exactDistribution(m, n);
    let p = 0;
    for (let k = m * n; k >= u; k--) p += dist[k];
    return { u, m, n, pValue: Math.min(1, p), method: "exact", z: null, ties: false };
  }
  const big = m + n;
  const variance = ((m * n) / 12) * (big + 1 - tieTerm / (big * (big - 1)));
  if (variance <= 0) {
    return { u, m, n, pValue: 1, method: "normal", z: null, ties };
  }
  const z = (u - (m * n) / 2 - 0.5) / Math.sqrt(variance);
  return { u, m, n, pValue: normalUpperTail(z), method: "normal", z, ties: ties || tieTerm > 0 };
}

export function initLatency(options: Partial<LatencyOptions> = {}): LatencyState {
  return {
    kind: "latency",
    options: resolveLatencyOptions(options),
    lastStart: null,
    intervals: 0,
    missing: 0,
    steps: 0,
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
  const steps = state.steps + (newStep ? 1 : 0);
  const c = interval.canary;
  const s = interval.stable;
  const usable = c.requests > 0 && s.requests > 0 && c.p99Ms !== undefined && s.p99Ms !== undefined;
  const canary = prev?.canary ?? [];
  const stable = prev?.stable ?? [];
  const step = {
    clock,
    canary: usable ? canary.concat(c.p99Ms as number) : canary,
    stable: usable ? stable.concat(s.p99Ms as number) : stable,
    looks: prev?.looks ?? 0,
    last: prev?.last ?? null,
  };
  let failed = state.failed;
  if (usable && step.canary.length >= o.minIntervals) {
    // A look: every interval that adds a pair once the step has minIntervals of them.
    step.looks += 1;
    const test = mannWhitneyGreater(step.canary, step.stable, o.allowedRatio);
    step.last = {
      u: test.u,
      m: test.m,
      n: test.n,
      pValue: test.pValue,
      method: test.method,
      z: test.z,
      ties: test.ties,
      alphaLook: spentAlpha(o.alpha, steps, step.looks),
      stepIndex: steps,
      look: step.looks,
    };
    if (failed === null && step.last.pValue <= step.last.alphaLook) {
      failed = { at: interval.start, stepId: clock.id, look: step.last };
    }
  }
  return {
    kind: "latency",
    options: o,
    lastStart: interval.start,
    intervals: state.intervals + 1,
    missing: state.missing + (usable ? 0 : 1),
    steps,
    step,
    failed,
  };
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[h] : (s[h - 1] + s[h]) / 2;
}

function describeLook(look: LatencyLook): string {
  return (
    `Mann-Whitney U=${look.u} of ${look.m * look.n} (m=${look.m}, n=${look.n}, ${look.method}), ` +
    `p=${formatNumber(look.pValue)}`
  );
}

type LatencyCondition = "failed" | "fewIntervals" | "baking" | "suspicious" | "pass";

function classifyLatency(state: LatencyState): { verdict: Verdict; condition: LatencyCondition } {
  const o = state.options;
  const step = state.step;
  if (state.failed !== null) return { verdict: "fail", condition: "failed" };
  if (step === null || step.last === null || step.canary.length < o.minIntervals) {
    return { verdict: "inconclusive", condition: "fewIntervals" };
  }
  if (step.clock.lastEnd - step.clock.startedAt < o.bakeMs) {
    return { verdict: "inconclusive", condition: "baking" };
  }
  if (step.last.pValue <= o.alpha) return { verdict: "inconclusive", condition: "suspicious" };
  return { verdict: "pass", condition: "pass" };
}

/** The verdict alone, cheaply (what evaluateLatency would say). */
export function latencyVerdict(state: LatencyState): Verdict {
  return classifyLatency(state).verdict;
}

export function evaluateLatency(state: LatencyState): LatencyResult {
  const o = state.options;
  const step = state.step;
  const elapsedMs = step ? step.clock.lastEnd - step.clock.startedAt : 0;
  const canaryMedianMs = step ? median(step.canary) : null;
  const stableMedianMs = step ? median(step.stable) : null;
  const details: LatencyDetails = {
    allowedRatio: o.allowedRatio,
    alpha: o.alpha,
    minIntervals: o.minIntervals,
    intervals: state.intervals,
    missing: state.missing,
    step: step
      ? {
          id: step.clock.id,
          elapsedMs,
          bakeMs: o.bakeMs,
          pairs: step.canary.length,
          canaryMedianMs,
          stableMedianMs,
        }
      : null,
    last: step?.last ?? null,
    failed: state.failed,
  };
  const medians =
    canaryMedianMs !== null && stableMedianMs !== null
      ? `canary p99 median ${formatNumber(canaryMedianMs)} ms vs stable ${formatNumber(stableMedianMs)} ms ` +
        `x allowed ${formatNumber(o.allowedRatio)} = ${formatNumber(stableMedianMs * o.allowedRatio)} ms`
      : "no p99 pairs this step";

  const { verdict, condition } = classifyLatency(state);
  const last = step?.last ?? null;
  let why: string;
  switch (condition) {
    case "failed": {
      const f = state.failed as NonNullable<LatencyState["failed"]>;
      why =
        `${describeLook(f.look)} <= ${formatNumber(f.look.alphaLook)} (alpha spent on step ` +
        `${f.look.stepIndex}, look ${f.look.look}) at ${new Date(f.at).toISOString()}`;
      break;
    }
    case "fewIntervals":
      why = `${step?.canary.length ?? 0} intervals with p99 for both colours this step, needs ${o.minIntervals}`;
      break;
    case "baking":
      why = `${describeLook(last as LatencyLook)}; step baked ${elapsedMs / 1000}s of ${o.bakeMs / 1000}s`;
      break;
    case "suspicious":
      why =
        `${describeLook(last as LatencyLook)} <= alpha ${formatNumber(o.alpha)}: suspicious, ` +
        `above the spent level ${formatNumber((last as LatencyLook).alphaLook)}`;
      break;
    case "pass":
      why = `${describeLook(last as LatencyLook)} > alpha ${formatNumber(o.alpha)}`;
      break;
  }
  return { verdict, reason: `latency ${verdict}: ${medians}; ${why}`, details };
}

export function judgeLatency(
  intervals: readonly Interval[],
  options: Partial<LatencyOptions> = {},
): LatencyResult {
  return evaluateLatency(intervals.reduce(updateLatency, initLatency(options)));
}
