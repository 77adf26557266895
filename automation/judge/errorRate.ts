/**
 * Error rate, canary against stable: an always-valid sequential test on 5xx counts.
 *
 * Model. In an interval where the canary served n_c requests and the stable served n_s, let the
 * canary's error rate be rho times the stable's. Conditional on the total number of errors
 * e = x + y of the interval (x from the canary, y from the stable), the canary's share is
 * x ~ Binomial(e, p(rho)) with p(rho) = rho n_c / (rho n_c + n_s). This is exact when errors are
 * Poisson and close to exact for binomial errors at low rates; at rho = 1 it is conservative
 * for binomial errors, because the conditional law is then hypergeometric, which is dominated
 * by the binomial in convex order (Hoeffding 1963, Thm 4), so E[likelihood ratio] <= 1 still.
 *
 * Test. H0: rho <= rho0 (the allowed ratio). For each alternative rho_k > rho0 the running
 * product over intervals of L(rho_k) / L(rho0) is a nonnegative martingale under rho = rho0 and a
 * supermartingale under rho < rho0 (the expected ratio is increasing in the true share). A
 * mixture of them with prior weights w_k (sum 1) is again one (Robbins 1970, mixture SPRT; see
 * Lindon & Malek 2022, "Anytime-valid inference for multinomial count data", and Howard et al.
 * 2021, "Time-uniform, nonparametric, nonasymptotic confidence sequences"). By Ville's inequality
 * (Ville 1939) P(evidence ever >= 1/alpha) <= alpha, however often it is checked. Because p
 * is recomputed from each interval's own n_c and n_s, a traffic weight that changes mid-step or
 * between steps needs no special handling.
 *
 * Per interval, log L(rho_k)/L(rho0) = x ln(rho_k/rho0) + e ln((rho0 n_c + n_s)/(rho_k n_c + n_s)).
 * An interval where either colour served no request, or with no error at all, adds nothing.
 *
 * Tempering. An interval with e > maxErrorsPerInterval errors contributes its likelihood ratio
 * raised to the power lambda = maxErrorsPerInterval / e. Given e, E[LR^lambda] <= E[LR]^lambda
 * <= 1 (Jensen), so validity is kept; it bounds the weight of an interval with very many errors,
 * where real error counts vary more than binomially (bursts) and the plain ratio would overstate
 * the evidence.
 *
 * Verdicts.
 * - fail: the evidence reached 1/alpha at some interval (it stays failed: that was the decision).
 * - pass: not failed, the step has run its bake time, the canary served at least
 *   minCanaryRequests in the step, the stable served some (at 100 % canary weight nothing can be
 *   compared), and the evidence is at most passMaxEvidence (default 1: the data favour "within
 *   the allowed ratio" over the mixture of regressions, at worst evenly).
 * - inconclusive: otherwise.
 */
import { Interval } from "../metrics/interval";
import {
  advanceClock,
  checkInterval,
  checkOption,
  Counts,
  formatNumber,
  formatRate,
  JudgeInputError,
  JudgeResult,
  rate,
  sampleErrors,
  StepClock,
  Verdict,
} from "./types";

/** One alternative of the mixture: rho = allowedRatio * factor, with its prior weight. */
export interface Alternative {
  factor: number;
  weight: number;
}

export interface ErrorRateOptions {
  /** rho0: the canary's error rate may be this many times the stable's. */
  allowedRatio: number;
  /** Fail when the evidence reaches 1/alpha; the false-fail probability is at most alpha. */
  alpha: number;
  /** The mixture over regressions: factors > 1 over allowedRatio, weights summing to 1. */
  alternatives: readonly Alternative[];
  /** Canary requests the current step must have seen before it can pass. */
  minCanaryRequests: number;
  /** How long the current step must have run before it can pass (ms). */
  bakeMs: number;
  /** Pass only when the evidence is at most this (1 = no support for a regression). */
  passMaxEvidence: number;
  /** Length of one interval (ms), used to measure the step's elapsed time. */
  intervalMs: number;
  /**
   * An interval counts at most this many errors' worth of evidence: with e errors its likelihood
   * ratios are raised to the power min(1, maxErrorsPerInterval / e). Bounds the weight of one
   * interval with many errors, whose share is more variable than binomial in practice.
   */
  maxErrorsPerInterval: number;
}

/** Defaults, tuned on the benchmark in bench/: alpha 0.03, allowed ratio 1, weight on rho = 2. */
export const DEFAULT_ERROR_RATE_OPTIONS: Readonly<ErrorRateOptions> = Object.freeze({
  allowedRatio: 1,
  alpha: 0.03,
  alternatives: Object.freeze([
    { factor: 1.25, weight: 0.1 },
    { factor: 1.5, weight: 0.15 },
    { factor: 2, weight: 0.35 },
    { factor: 3, weight: 0.2 },
    { factor: 6, weight: 0.1 },
    { factor: 12, weight: 0.1 },
  ]),
  minCanaryRequests: 1000,
  bakeMs: 5 * 60_000,
  passMaxEvidence: 1,
  intervalMs: 60_000,
  maxErrorsPerInterval: 100,
});

/** Plain-data state; fold intervals into it with updateErrorRate. */
export interface ErrorRateState {
  kind: "errorRate";
  options: ErrorRateOptions;
  /** Per alternative: sum over intervals of log L(rho_k)/L(rho0). */
  logLikelihoodRatios: number[];
  /** log of the mixture evidence after the last interval. */
  logEvidence: number;
  /** Largest logEvidence seen so far. */
  maxLogEvidence: number;
  /** Start of the interval at which the evidence first reached 1/alpha, or null. */
  failedAt: number | null;
  /** logEvidence at that interval. */
  failedLogEvidence: number | null;
  intervals: number;
  /** Intervals that carried information: both colours served requests and some error occurred. */
  informativeIntervals: number;
  lastStart: number | null;
  total: { canary: Counts; stable: Counts };
  step: { clock: StepClock; canary: Counts; stable: Counts } | null;
}

export interface ErrorRateDetails {
  allowedRatio: number;
  alpha: number;
  /** The mixture likelihood ratio (e-value) and its log. */
  evidence: number;
  logEvidence: number;
  /** Fail threshold 1/alpha and its log. */
  failThreshold: number;
  logFailThreshold: number;
  passMaxEvidence: number;
  maxLogEvidence: number;
  failedAt: number | null;
  /** Whole release so far. */
  canary: Counts & { rate: number | null };
  stable: Counts & { rate: number | null };
  /** Canary rate / stable rate over the release, null when undefined. */
  observedRatio: number | null;
  /** The alternative (absolute rho) with the largest likelihood ratio so far. */
  bestRatio: number | null;
  intervals: number;
  informativeIntervals: number;
  step: {
    id: number;
    elapsedMs: number;
    bakeMs: number;
    canary: Counts;
    stable: Counts;
    minCanaryRequests: number;
  } | null;
}

export type ErrorRateResult = JudgeResult<ErrorRateDetails>;

/** Merges options with the defaults and checks them; throws one clear line on a bad value. */
export function resolveErrorRateOptions(options: Partial<ErrorRateOptions> = {}): ErrorRateOptions {
  const o: ErrorRateOptions = { ...DEFAULT_ERROR_RATE_OPTIONS, ...options };
  checkOption("errorRate.allowedRatio", o.allowedRatio, 0, Infinity, { openMin: true });
  checkOption("errorRate.alpha", o.alpha, 0, 1, { openMin: true, openMax: true });
  checkOption("errorRate.minCanaryRequests", o.minCanaryRequests, 0, Infinity);
  checkOption("errorRate.bakeMs", o.bakeMs, 0, Infinity);
  checkOption("errorRate.passMaxEvidence", o.passMaxEvidence, 0, 1 / o.alpha, {
    openMax: true,
  });
  checkOption("errorRate.intervalMs", o.intervalMs, 0, Infinity, { openMin: true });
  checkOption("errorRate.maxErrorsPerInterval", o.maxErrorsPerInterval, 0, Infinity, {
    openMin: true,
  });
  if (!Array.isArray(o.alternatives) || o.alternatives.length === 0) {
    throw new JudgeInputError(
      `errorRate.alternatives must be a non-empty list of {factor > 1, weight > 0}, got ${JSON.stringify(o.alternatives)}`,
    );
  }
  let sum = 0;
  o.alternatives.forEach((a, i) => {
    checkOption(`errorRate.alternatives[${i}].factor`, a.factor, 1, Infinity, {
      openMin: true,
    });
    checkOption(`errorRate.alternatives[${i}].weight`, a.weight, 0, 1, { openMin: true });
    sum += a.weight;
  });
  if (Math.abs(sum - 1) > 1e-9) {
    throw new JudgeInputError(`errorRate.alternatives weights must sum to 1, got ${sum}`);
  }
  return {
    ...o,
    alternatives: o.alternatives.map((a) => ({ factor: a.factor, weight: a.weight })),
  };
}

export function initErrorRate(options: Partial<ErrorRateOptions> = {}): ErrorRateState {
  const resolved = resolveErrorRateOptions(options);
  return {
    kind: "errorRate",
    options: resolved,
    logLikelihoodRatios: resolved.alternatives.map(() => 0),
    logEvidence: 0,
    maxLogEvidence: 0,
    failedAt: null,
    failedLogEvidence: null,
    intervals: 0,
    informativeIntervals: 0,
    lastStart: null,
    total: { canary: { requests: 0, errors: 0 }, stable: { requests: 0, errors: 0 } },
    step: null,
  };
}

/**
 * log L(rho1)/L(rho0) of one interval under the conditional binomial model: x canary errors
 * out of e, with nc canary and ns stable requests. Zero when either colour had no request.
 */
export function intervalLogLikelihoodRatio(
  x: number,
  e: number,
  nc: number,
  ns: number,
  rho1: number,
  rho0: number,
): number {
  if (e === 0 || nc === 0 || ns === 0) return 0;
  return x * Math.log(rho1 / rho0) + e * Math.log((rho0 * nc + ns) / (rho1 * nc + ns));
}

/** log(sum_k w_k exp(s_k)), computed without overflow. */
export function mixtureLogEvidence(
  alternatives: readonly Alternative[],
  logRatios: readonly number[],
): number {
  let max = -Infinity;
  for (let k = 0; k < alternatives.length; k++) {
    max = Math.max(max, Math.log(alternatives[k].weight) + logRatios[k]);
  }
  let sum = 0;
  for (let k = 0; k < alternatives.length; k++) {
    sum += Math.exp(Math.log(alternatives[k].weight) + logRatios[k] - max);
  }
  return max + Math.log(sum);
}

function addCounts(c: Counts, requests: number, errors: number): Counts {
  return { requests: c.requests + requests, errors: c.errors + errors };
}

/** Folds one interval into the state; returns a new state (the argument is not changed). */
export function updateErrorRate(state: ErrorRateState, interval: Interval): ErrorRateState {
  checkInterval(interval, state.lastStart);
  const o = state.options;
  const nc = interval.canary.requests;
  const ns = interval.stable.requests;
  const x = sampleErrors(interval.canary, "interval.canary");
  const y = sampleErrors(interval.stable, "interval.stable");
  const e = x + y;
  const informative = e > 0 && nc > 0 && ns > 0;

  const power = Math.min(1, o.maxErrorsPerInterval / e);
  const logLikelihoodRatios = informative
    ? state.logLikelihoodRatios.map(
        (s, k) =>
          s +
          power *
            intervalLogLikelihoodRatio(
              x,
              e,
              nc,
              ns,
              o.allowedRatio * o.alternatives[k].factor,
              o.allowedRatio,
            ),
      )
    : state.logLikelihoodRatios.slice();
  const logEvidence = informative
    ? mixtureLogEvidence(o.alternatives, logLikelihoodRatios)
    : state.logEvidence;

  const crossing = state.failedAt === null && logEvidence >= Math.log(1 / o.alpha);
  const { clock, newStep } = advanceClock(state.step?.clock ?? null, interval, o.intervalMs);
  const prevStep = newStep || state.step === null ? null : state.step;
  const zero: Counts = { requests: 0, errors: 0 };

  return {
    kind: "errorRate",
    options: o,
    logLikelihoodRatios,
    logEvidence,
    maxLogEvidence: Math.max(state.maxLogEvidence, logEvidence),
    failedAt: crossing ? interval.start : state.failedAt,
    failedLogEvidence: crossing ? logEvidence : state.failedLogEvidence,
    intervals: state.intervals + 1,
    informativeIntervals: state.informativeIntervals + (informative ? 1 : 0),
    lastStart: interval.start,
    total: {
      canary: addCounts(state.total.canary, nc, x),
      stable: addCounts(state.total.stable, ns, y),
    },
    step: {
      clock,
      canary: addCounts(prevStep?.canary ?? zero, nc, x),
      stable: addCounts(prevStep?.stable ?? zero, ns, y),
    },
  };
}

function bestRatio(state: ErrorRateState): number | null {
  if (state.informativeIntervals === 0) return null;
  let best = 0;
  for (let k = 1; k < state.logLikelihoodRatios.length; k++) {
    if (state.logLikelihoodRatios[k] > state.logLikelihoodRatios[best]) best = k;
  }
  return state.options.allowedRatio * state.options.alternatives[best].factor;
}

type ErrorRateCondition =
  | "failed"
  | "noData"
  | "baking"
  | "fewRequests"
  | "noStable"
  | "evidence"
  | "pass";

function classifyErrorRate(state: ErrorRateState): {
  verdict: Verdict;
  condition: ErrorRateCondition;
} {
  const o = state.options;
  const step = state.step;
  if (state.failedAt !== null) return { verdict: "fail", condition: "failed" };
  if (step === null) return { verdict: "inconclusive", condition: "noData" };
  if (step.clock.lastEnd - step.clock.startedAt < o.bakeMs) {
    return { verdict: "inconclusive", condition: "baking" };
  }
  if (step.canary.requests < o.minCanaryRequests) {
    return { verdict: "inconclusive", condition: "fewRequests" };
  }
  if (step.stable.requests === 0) return { verdict: "inconclusive", condition: "noStable" };
  if (state.logEvidence > Math.log(o.passMaxEvidence)) {
    return { verdict: "inconclusive", condition: "evidence" };
  }
  return { verdict: "pass", condition: "pass" };
}

/** The verdict alone, cheaply (what evaluateErrorRate would say). */
export function errorRateVerdict(state: ErrorRateState): Verdict {
  return classifyErrorRate(state).verdict;
}

/** The verdict of the state, with the numbers behind it. */
export function evaluateErrorRate(state: ErrorRateState): ErrorRateResult {
  const o = state.options;
  const logFailThreshold = Math.log(1 / o.alpha);
  const canaryRate = rate(state.total.canary);
  const stableRate = rate(state.total.stable);
  const step = state.step;
  const elapsedMs = step ? step.clock.lastEnd - step.clock.startedAt : 0;
  const details: ErrorRateDetails = {
    allowedRatio: o.allowedRatio,
    alpha: o.alpha,
    evidence: Math.exp(state.logEvidence),
    logEvidence: state.logEvidence,
    failThreshold: 1 / o.alpha,
    logFailThreshold,
    passMaxEvidence: o.passMaxEvidence,
    maxLogEvidence: state.maxLogEvidence,
    failedAt: state.failedAt,
    canary: { ...state.total.canary, rate: canaryRate },
    stable: { ...state.total.stable, rate: stableRate },
    observedRatio:
      canaryRate !== null && stableRate !== null && stableRate > 0 ? canaryRate / stableRate : null,
    bestRatio: bestRatio(state),
    intervals: state.intervals,
    informativeIntervals: state.informativeIntervals,
    step: step
      ? {
          id: step.clock.id,
          elapsedMs,
          bakeMs: o.bakeMs,
          canary: { ...step.canary },
          stable: { ...step.stable },
          minCanaryRequests: o.minCanaryRequests,
        }
      : null,
  };

  const rates =
    `canary 5xx ${formatRate(state.total.canary)} vs stable ${formatRate(state.total.stable)}` +
    (details.observedRatio !== null ? ` (ratio ${formatNumber(details.observedRatio)})` : "") +
    `, allowed ratio ${formatNumber(o.allowedRatio)}`;
  const evidence = `evidence ${formatNumber(details.evidence)}`;

  const { verdict, condition } = classifyErrorRate(state);
  const stepCanary = step?.canary.requests ?? 0;
  let why: string;
  switch (condition) {
    case "failed":
      why =
        `evidence reached ${formatNumber(Math.exp(state.failedLogEvidence ?? state.logEvidence))} ` +
        `>= 1/alpha = ${formatNumber(1 / o.alpha)} at ` +
        `${new Date(state.failedAt ?? 0).toISOString()} (now ${formatNumber(details.evidence)})`;
      break;
    case "noData":
      why = "no data yet";
      break;
    case "baking":
      why = `${evidence} < ${formatNumber(1 / o.alpha)}; step baked ${elapsedMs / 1000}s of ${o.bakeMs / 1000}s`;
      break;
    case "fewRequests":
      why = `${evidence}; canary served ${stepCanary} requests this step, needs ${o.minCanaryRequests}`;
      break;
    case "noStable":
      why = `${evidence}; the stable served no request this step: nothing to compare with`;
      break;
    case "evidence":
      why =
        `${evidence} is above the pass level ${formatNumber(o.passMaxEvidence)} and below ` +
        `1/alpha = ${formatNumber(1 / o.alpha)}`;
      break;
    case "pass":
      why =
        `${evidence} <= ${formatNumber(o.passMaxEvidence)} after ${elapsedMs / 1000}s and ` +
        `${stepCanary} canary requests this step`;
      break;
  }
  return { verdict, reason: `error rate ${verdict}: ${rates}; ${why}`, details };
}

/** Folds all intervals at once; the same as updating one by one and evaluating the end state. */
export function judgeErrorRate(
  intervals: readonly Interval[],
  options: Partial<ErrorRateOptions> = {},
): ErrorRateResult {
  return evaluateErrorRate(intervals.reduce(updateErrorRate, initErrorRate(options)));
}
