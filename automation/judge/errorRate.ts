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
 * Tempering. Real error rates wander from interval to interval more than binomially (a noisy
 * client, a slow host, a dependency's bad minute), and each colour wanders on its own. With a
 * per-colour relative variance phi of the rate per interval, the canary's share of the e errors
 * varies more than Binomial(e, p): Var = e p (1 - p) (1 + (e - 1) c) with c = 2 phi p (1 - p)
 * (the share moves with the log of the ratio of the two rates, whose variance is 2 phi). The
 * interval's log likelihood ratios are multiplied by lambda = 1 / (1 + (e - 1) c), the inverse
 * of that variance inflation: for a log likelihood ratio linear in x, log E[LR^lambda] is then
 * lambda times its binomial value to second order, i.e. <= 0, so the product stays a
 * supermartingale in the normal approximation (a quasi-likelihood argument: exact for binomial
 * data at phi = 0, approximate otherwise, which the benchmark measures). phi is estimated by
 * the method of moments from the stable's intervals before the current one (so lambda is known
 * before the interval's data, as the argument needs; they include the stable's history from
 * before the first step when the caller folds it in, judge.ts foldStableHistory, so that the
 * first minutes of a release are not weighed as binomial), and taken to hold for the canary too: the
 * same service, the same wandering. The stable colour, not the canary, because a canary whose
 * rate changes (a regression that starts mid-release) would read as noise and damp itself.
 * Capping. Each interval's likelihood ratio may be capped at (1/alpha)^(1/(k - 1)) (per
 * alternative, k = failIntervals; 1, the default, is no cap): min(LR, C) <= LR, so its expectation stays <= 1 and every guarantee above
 * stands. It means no fewer than failIntervals intervals can fail the canary: a burst of errors
 * on one colour for one interval cannot, while a canary failing every request fails in
 * failIntervals intervals. In the last step, where nothing cancels a burst that hits the whole
 * service, k = lastStepFailIntervals (default 4).
 * On top, lambda is at most maxErrorsPerInterval / e: for binomial data E[LR^lambda] <=
 * E[LR]^lambda <= 1 (Jensen) for any lambda <= 1 known given e, so either damping keeps the
 * exact guarantee when the data are binomial.
 *
 * The last step. At 100 % canary weight the stable serves nothing; the interval's canary errors
 * x are compared with the stable's rate measured earlier in the same release. Let r_up be the
 * upper (1 - beta) confidence bound of that rate (beta = BASELINE_BETA; a Poisson bound from
 * the Wilson-Hilferty approximation, on the error count divided by the dispersion's variance
 * inflation). Under H0 (canary rate <= rho0 x the stable's true rate <= rho0 r_up, which holds
 * with probability >= 1 - beta) x is at most Poisson(mu0), mu0 = rho0 r_up n_c, and
 * exp(x ln f - mu0 (f - 1)) has expectation <= 1 for each factor f = rho_k / rho0 > 1 (a binomial
 * count's moment generating function is below the Poisson's). These factors continue the same
 * mixture martingale, tempered by 1 / (1 + phi mu0) (the Poisson's variance inflation under
 * the wandering) and by maxErrorsPerInterval / mu0. So one release's false-fail probability is
 * at most alpha + beta, assuming the stable's rate stays as it was measured.
 *
 * Verdicts.
 * - fail: the evidence reached 1/alpha at some interval (it stays failed: that was the decision).
 * - pass: not failed, the step has run its bake time, the canary served at least
 *   minCanaryRequests (at least 1) in the step, the stable served some in the step or earlier
 *   in the release (the baseline of the last step), and the evidence is at most passMaxEvidence
 *   (default 1: the data favour "within the allowed ratio" over the mixture of regressions, at
 *   worst evenly).
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
  /**
   * No fewer than this many intervals can fail the canary: each interval's likelihood ratio is
   * capped at (1/alpha)^(1/(failIntervals - 1)) (1: no cap). A short burst of errors on one colour then cannot
   * fail the canary alone, while a canary that fails every request fails in this many intervals.
   */
  failIntervals: number;
  /** The same for intervals in which the canary alone served (the last step, against its baseline). */
  lastStepFailIntervals: number;
}

/**
 * Sums over the stable's intervals (those with requests) that estimate how much its error rate
 * wanders from interval to interval beyond the binomial: requests n_i and errors y_i.
 */
export interface DispersionSums {
  intervals: number;
  /** Sums of y_i n_i and n_i^2 and y_i^2 (the sums of y_i and n_i are the stable's Counts). */
  yn: number;
  nn: number;
  yy: number;
}

/** The confidence the baseline rate of the last step is taken with: its bound fails with this. */
export const BASELINE_BETA = 0.01;
/** The standard normal's (1 - BASELINE_BETA) quantile. */
const BASELINE_Z = 2.3263478740408408;

/** Defaults, tuned on the benchmark in test/bench/judge: alpha 0.03, allowed ratio 1, weight on rho = 2. */
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
  failIntervals: 1,
  lastStepFailIntervals: 4,
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
  /** The stable's per-interval sums, for the dispersion estimate. */
  dispersion: DispersionSums;
  step: {
    clock: StepClock;
    canary: Counts;
    stable: Counts;
    /** Per alternative: the log likelihood ratios of this step's intervals alone. */
    logLikelihoodRatios: number[];
  } | null;
}

/**
 * What the last step needs from the steps before it, bounded (a few numbers whatever the
 * release's length): the evidence so far and the stable's counts and dispersion. A release
 * keeps it (automation/gates/metrics.ts) for a 100 % step whose metrics source no longer reads
 * back that far.
 */
export type ErrorRateSummary = Pick<
  ErrorRateState,
  | "logLikelihoodRatios"
  | "maxLogEvidence"
  | "failedAt"
  | "failedLogEvidence"
  | "intervals"
  | "informativeIntervals"
  | "lastStart"
  | "total"
  | "dispersion"
>;

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
  /** The stable's rate per interval's relative variance beyond the binomial (see Tempering). */
  dispersion: number;
  /** In a step without stable traffic: the stable's earlier rate and its upper bound. */
  baseline: { rate: number; bound: number } | null;
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
  // Never 0: no setting passes a step on which the canary served nothing.
  checkOption("errorRate.minCanaryRequests", o.minCanaryRequests, 1, Infinity);
  checkOption("errorRate.bakeMs", o.bakeMs, 0, Infinity);
  checkOption("errorRate.passMaxEvidence", o.passMaxEvidence, 0, 1 / o.alpha, {
    openMax: true,
  });
  checkOption("errorRate.intervalMs", o.intervalMs, 0, Infinity, { openMin: true });
  checkOption("errorRate.maxErrorsPerInterval", o.maxErrorsPerInterval, 0, Infinity, {
    openMin: true,
  });
  checkOption("errorRate.failIntervals", o.failIntervals, 1, 1000, { integer: true });
  checkOption("errorRate.lastStepFailIntervals", o.lastStepFailIntervals, 1, 1000, {
    integer: true,
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
    dispersion: { intervals: 0, yn: 0, nn: 0, yy: 0 },
    step: null,
  };
}

/** The bounded part of the state the last step needs (see ErrorRateSummary). */
export function summariseErrorRate(state: ErrorRateState): ErrorRateSummary {
  return {
    logLikelihoodRatios: state.logLikelihoodRatios.slice(),
    maxLogEvidence: state.maxLogEvidence,
    failedAt: state.failedAt,
    failedLogEvidence: state.failedLogEvidence,
    intervals: state.intervals,
    informativeIntervals: state.informativeIntervals,
    lastStart: state.lastStart,
    total: { canary: { ...state.total.canary }, stable: { ...state.total.stable } },
    dispersion: { ...state.dispersion },
  };
}

/** A state that goes on from a summary, as if the summarised intervals had been folded in. */
export function resumeErrorRate(
  summary: ErrorRateSummary,
  options: Partial<ErrorRateOptions> = {},
): ErrorRateState {
  const fresh = initErrorRate(options);
  const ratios = summary.logLikelihoodRatios;
  if (
    !Array.isArray(ratios) ||
    ratios.length !== fresh.logLikelihoodRatios.length ||
    !ratios.every((r) => typeof r === "number" && !Number.isNaN(r))
  ) {
    throw new JudgeInputError(
      `errorRate summary.logLikelihoodRatios must hold ${fresh.logLikelihoodRatios.length} numbers ` +
        `(one per alternative), got ${JSON.stringify(ratios)}`,
    );
  }
  for (const colour of ["stable", "canary"] as const) {
    sampleErrors(summary.total[colour], `errorRate summary.total.${colour}`);
  }
  return {
    ...fresh,
    logLikelihoodRatios: ratios.slice(),
    logEvidence: mixtureLogEvidence(fresh.options.alternatives, ratios),
    maxLogEvidence: summary.maxLogEvidence,
    failedAt: summary.failedAt,
    failedLogEvidence: summary.failedLogEvidence,
    intervals: summary.intervals,
    informativeIntervals: summary.informativeIntervals,
    lastStart: summary.lastStart,
    total: { canary: { ...summary.total.canary }, stable: { ...summary.total.stable } },
    dispersion: { ...summary.dispersion },
  };
}

/**
 * phi, the stable's relative variance of the error rate per interval beyond the binomial, by
 * the method of moments: (sum (y_i - n_i r)^2 - sum y_i) / (r^2 sum n_i^2), r the pooled rate
 * (E[(y_i - n_i r)^2] = n_i r (1 - r) + phi (n_i r)^2, and sum y_i is at least the binomial part);
 * 0 with fewer than 3 intervals or no error, and never below 0. Not shrunk further: an estimate
 * pulled towards 0 (say, less two standard errors) under-tempers exactly the wandering it is
 * there to absorb (per-colour Beta noise: 7.8 % false rollbacks shrunk by 2 SE, 5.2 % not, with
 * 1 % -> 2 % at 10 % still caught in a median 3 / p90 5 min; `npm run bench:judge` before the
 * stable's history was folded in).
 */
export function estimateDispersion(stable: Counts, d: DispersionSums): number {
  if (d.intervals < 3 || stable.errors === 0 || stable.requests === 0) return 0;
  const r = stable.errors / stable.requests;
  const squares = d.yy - 2 * r * d.yn + r * r * d.nn;
  return Math.max(0, (squares - stable.errors) / (r * r * d.nn));
}

/**
 * Upper (1 - BASELINE_BETA) confidence bound of a rate from `errors` in `requests`, with the
 * count's variance inflated by `inflation` (Poisson bound, Wilson-Hilferty approximation).
 */
export function baselineRateBound(errors: number, requests: number, inflation: number): number {
  const k = errors / inflation + 1;
  const bound = k * Math.pow(1 - 1 / (9 * k) + BASELINE_Z / (3 * Math.sqrt(k)), 3);
  return (bound * inflation) / requests;
}

/** The stable's rate bound the last step compares the canary with, or null without a baseline. */
export function lastStepBaseline(state: ErrorRateState): { rate: number; bound: number } | null {
  const { stable } = state.total;
  if (stable.requests === 0) return null;
  const phi = estimateDispersion(stable, state.dispersion);
  const r = stable.errors / stable.requests;
  // Var(Y) = sum mu_i (1 + phi mu_i): the count's inflation is 1 + phi sum mu_i^2 / sum mu_i.
  const inflation = 1 + (phi * r * state.dispersion.nn) / stable.requests;
  return { rate: r, bound: baselineRateBound(stable.errors, stable.requests, inflation) };
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

/**
 * The largest log likelihood ratio one interval may add so that no fewer than k intervals can
 * reach 1/alpha: log(1/alpha) / (k - 1) (a mixture of capped ratios stays below the cap, so k - 1
 * intervals stay below 1/alpha from an evidence of 1); none for k = 1.
 */
export function intervalCap(alpha: number, k: number): number {
  return k <= 1 ? Infinity : Math.log(1 / alpha) / (k - 1);
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
  const phi = estimateDispersion(state.total.stable, state.dispersion);
  const rho0 = o.allowedRatio;

  let increments: number[] | null = null;
  if (e > 0 && nc > 0 && ns > 0) {
    // Both colours served: the canary's share of the interval's errors.
    const p0 = (rho0 * nc) / (rho0 * nc + ns);
    const power = Math.min(
      1,
      o.maxErrorsPerInterval / e,
      1 / (1 + (e - 1) * 2 * phi * p0 * (1 - p0)),
    );
    const cap = intervalCap(o.alpha, o.failIntervals);
    increments = o.alternatives.map((a) =>
      Math.min(cap, power * intervalLogLikelihoodRatio(x, e, nc, ns, rho0 * a.factor, rho0)),
    );
  } else if (nc > 0 && ns === 0) {
    // The canary alone (the last step): against the stable's rate measured earlier.
    const baseline = lastStepBaseline(state);
    if (baseline !== null) {
      const mu0 = rho0 * baseline.bound * nc;
      const power = Math.min(1, o.maxErrorsPerInterval / mu0, 1 / (1 + phi * mu0));
      const cap = intervalCap(o.alpha, o.lastStepFailIntervals);
      increments = o.alternatives.map((a) =>
        Math.min(cap, power * (x * Math.log(a.factor) - mu0 * (a.factor - 1))),
      );
    }
  }
  const informative = increments !== null;
  const logLikelihoodRatios = increments
    ? state.logLikelihoodRatios.map((s, k) => s + (increments as number[])[k])
    : state.logLikelihoodRatios.slice();
  const logEvidence = informative
    ? mixtureLogEvidence(o.alternatives, logLikelihoodRatios)
    : state.logEvidence;

  const crossing = state.failedAt === null && logEvidence >= Math.log(1 / o.alpha);
  const { clock, newStep } = advanceClock(state.step?.clock ?? null, interval, o.intervalMs);
  const prevStep = newStep || state.step === null ? null : state.step;
  const zero: Counts = { requests: 0, errors: 0 };
  const d = state.dispersion;

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
    dispersion:
      ns > 0
        ? {
            intervals: d.intervals + 1,
            yn: d.yn + y * ns,
            nn: d.nn + ns * ns,
            yy: d.yy + y * y,
          }
        : { ...d },
    step: {
      clock,
      canary: addCounts(prevStep?.canary ?? zero, nc, x),
      stable: addCounts(prevStep?.stable ?? zero, ns, y),
      logLikelihoodRatios: (prevStep?.logLikelihoodRatios ?? o.alternatives.map(() => 0)).map(
        (l, k) => l + (increments ? increments[k] : 0),
      ),
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
  if (step.stable.requests === 0 && state.total.stable.requests === 0) {
    return { verdict: "inconclusive", condition: "noStable" };
  }
  // In the last step (no stable traffic) the step's own evidence too: a good history must not
  // hide a regression that shows only at full load.
  const stepLogEvidence =
    step.stable.requests === 0 ? mixtureLogEvidence(o.alternatives, step.logLikelihoodRatios) : 0;
  if (Math.max(state.logEvidence, stepLogEvidence) > Math.log(o.passMaxEvidence)) {
    return { verdict: "inconclusive", condition: "evidence" };
  }
  return { verdict: "pass", condition: "pass" };
}

/** Whether the step still lacks the canary requests it needs before it can pass. */
export function errorRateShortOfRequests(state: ErrorRateState): boolean {
  return classifyErrorRate(state).condition === "fewRequests";
}

/**
 * Whether the step has everything it needs to pass but its evidence, above the pass level and
 * below 1/alpha, leans towards a regression without showing one: more data would settle it.
 */
export function errorRateUndecided(state: ErrorRateState): boolean {
  return classifyErrorRate(state).condition === "evidence";
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
    dispersion: estimateDispersion(state.total.stable, state.dispersion),
    baseline: step !== null && step.stable.requests === 0 ? lastStepBaseline(state) : null,
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
    `, allowed ratio ${formatNumber(o.allowedRatio)}` +
    (details.baseline !== null
      ? `; no stable traffic this step: canary ${formatRate(step?.canary ?? { requests: 0, errors: 0 })} ` +
        `vs the stable's earlier ${(100 * details.baseline.rate).toFixed(2)}% ` +
        `(upper bound ${(100 * details.baseline.bound).toFixed(2)}%)`
      : "");
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
      why = `${evidence}; the stable served no request in this release: nothing to compare with`;
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
