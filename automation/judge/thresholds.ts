/**
 * Plain threshold gates on the canary alone, as Flagger and Argo Rollouts configure them.
 *
 * Every interval is one check of the canary: it fails when the success rate is below
 * successRateMin, the error rate is above errorRateMax, or the p99 is above p99MaxMs (each only
 * if set). Failed checks are counted over the whole release and never reset, as both tools do.
 * - Flagger (`analysis.threshold`): rolls back once failedChecks >= threshold.
 *   flaggerThresholds() sets failAfter = threshold. Flagger acts on the count at its next tick;
 *   this gate fails at the check that reaches it (one interval earlier).
 * - Argo Rollouts (`failureLimit`): the analysis fails once failed > failureLimit.
 *   argoThresholds() sets failAfter = failureLimit + 1.
 * An interval in which the canary served no request is no check ("skip", the default: hold,
 * never pass on no data) or a failed check ("fail", as Flagger does for "no values found").
 *
 * Verdicts: fail at failAfter failed checks; pass when the step has baked and its latest check
 * (with data) succeeded; inconclusive otherwise.
 */
import { Interval } from "../metrics/interval";
import {
  advanceClock,
  checkInterval,
  checkOption,
  formatNumber,
  JudgeInputError,
  JudgeResult,
  sampleErrors,
  StepClock,
  Verdict,
} from "./types";

export interface ThresholdOptions {
  /** Minimum success rate (non-5xx share) of the canary per check, a fraction, e.g. 0.99. */
  successRateMin?: number;
  /** Maximum error rate (5xx share) of the canary per check, a fraction, e.g. 0.01. */
  errorRateMax?: number;
  /** Maximum p99 of the canary per check (ms). */
  p99MaxMs?: number;
  /** The number of failed checks at which the gate fails. */
  failAfter: number;
  /** What an interval without canary requests is: no check, or a failed check. */
  noData: "skip" | "fail";
  /** How long the current step must have run before it can pass (ms). */
  bakeMs: number;
  intervalMs: number;
}

export type Violation = "successRate" | "errorRate" | "p99" | "noData";

export interface ThresholdCheck {
  at: number;
  ok: boolean;
  /** Why it failed: the violated limits, or "noData". */
  violations: Violation[];
  requests: number;
  errors: number;
  successRate: number | null;
  errorRate: number | null;
  p99Ms: number | null;
}

export interface ThresholdState {
  kind: "thresholds";
  options: ThresholdOptions;
  lastStart: number | null;
  checks: number;
  failedChecks: number;
  skipped: number;
  failedAt: number | null;
  step: { clock: StepClock; checks: number; last: ThresholdCheck | null } | null;
  /** The latest check of the release. */
  last: ThresholdCheck | null;
}

export interface ThresholdDetails {
  successRateMin: number | null;
  errorRateMax: number | null;
  p99MaxMs: number | null;
  failAfter: number;
  checks: number;
  failedChecks: number;
  skipped: number;
  failedAt: number | null;
  last: ThresholdCheck | null;
  step: { id: number; elapsedMs: number; bakeMs: number; checks: number } | null;
}

export type ThresholdResult = JudgeResult<ThresholdDetails>;

const TOLERANCE = 1e-12;

export function resolveThresholdOptions(
  options: Partial<ThresholdOptions> & { failAfter: number },
): ThresholdOptions {
  const o: ThresholdOptions = {
    noData: "skip",
    bakeMs: 5 * 60_000,
    intervalMs: 60_000,
    ...options,
  };
  if (o.successRateMin !== undefined)
    checkOption("thresholds.successRateMin", o.successRateMin, 0, 1);
  if (o.errorRateMax !== undefined) checkOption("thresholds.errorRateMax", o.errorRateMax, 0, 1);
  if (o.p99MaxMs !== undefined) checkOption("thresholds.p99MaxMs", o.p99MaxMs, 0, Infinity);
  if (o.successRateMin === undefined && o.errorRateMax === undefined && o.p99MaxMs === undefined) {
    throw new JudgeInputError(
      "thresholds needs at least one of successRateMin, errorRateMax, p99MaxMs, got none",
    );
  }
  checkOption("thresholds.failAfter", o.failAfter, 1, Infinity, { integer: true });
  if (o.noData !== "skip" && o.noData !== "fail") {
    throw new JudgeInputError(
      `thresholds.noData must be "skip" or "fail", got ${String(o.noData)}`,
    );
  }
  checkOption("thresholds.bakeMs", o.bakeMs, 0, Infinity);
  checkOption("thresholds.intervalMs", o.intervalMs, 0, Infinity, { openMin: true });
  return o;
}

/**
 * Flagger's builtin request-success-rate check (thresholdRange.min, in percent there) with
 * `analysis.threshold` failed checks; defaults 99 % and 5.
 */
export function flaggerThresholds(
  options: {
    successRateMin?: number;
    threshold?: number;
    p99MaxMs?: number;
  } & Partial<Pick<ThresholdOptions, "noData" | "bakeMs" | "intervalMs">> = {},
): ThresholdOptions {
  const { successRateMin = 0.99, threshold = 5, ...rest } = options;
  return resolveThresholdOptions({ ...rest, successRateMin, failAfter: threshold });
}

/** Argo Rollouts' `successCondition: result <= errorRateMax` with failureLimit; defaults 1 %, 3. */
export function argoThresholds(
  options: {
    errorRateMax?: number;
    failureLimit?: number;
    p99MaxMs?: number;
  } & Partial<Pick<ThresholdOptions, "noData" | "bakeMs" | "intervalMs">> = {},
): ThresholdOptions {
  const { errorRateMax = 0.01, failureLimit = 3, ...rest } = options;
  return resolveThresholdOptions({ ...rest, errorRateMax, failAfter: failureLimit + 1 });
}

export function initThresholds(
  options: Partial<ThresholdOptions> & { failAfter: number },
): ThresholdState {
  return {
    kind: "thresholds",
    options: resolveThresholdOptions(options),
    lastStart: null,
    checks: 0,
    failedChecks: 0,
    skipped: 0,
    failedAt: null,
    step: null,
    last: null,
  };
}

/** One check of the canary against the limits; null when the interval is no check. */
export function checkCanary(options: ThresholdOptions, interval: Interval): ThresholdCheck | null {
  const { requests, p99Ms } = interval.canary;
  const errors = sampleErrors(interval.canary, "interval.canary");
  if (requests === 0) {
    if (options.noData === "skip") return null;
    return {
      at: interval.start,
      ok: false,
      violations: ["noData"],
      requests,
      errors,
      successRate: null,
      errorRate: null,
      p99Ms: p99Ms ?? null,
    };
  }
  const errorRate = errors / requests;
  const successRate = 1 - errorRate;
  const violations: Violation[] = [];
  if (options.successRateMin !== undefined && successRate < options.successRateMin - TOLERANCE) {
    violations.push("successRate");
  }
  if (options.errorRateMax !== undefined && errorRate > options.errorRateMax + TOLERANCE) {
    violations.push("errorRate");
  }
  if (options.p99MaxMs !== undefined && p99Ms !== undefined && p99Ms > options.p99MaxMs) {
    violations.push("p99");
  }
  return {
    at: interval.start,
    ok: violations.length === 0,
    violations,
    requests,
    errors,
    successRate,
    errorRate,
    p99Ms: p99Ms ?? null,
  };
}

export function updateThresholds(state: ThresholdState, interval: Interval): ThresholdState {
  checkInterval(interval, state.lastStart);
  const o = state.options;
  const { clock, newStep } = advanceClock(state.step?.clock ?? null, interval, o.intervalMs);
  const prev = newStep || state.step === null ? { checks: 0, last: null } : state.step;
  const check = checkCanary(o, interval);
  const failedChecks = state.failedChecks + (check !== null && !check.ok ? 1 : 0);
  const fails = state.failedAt === null && failedChecks >= o.failAfter;
  return {
    kind: "thresholds",
    options: o,
    lastStart: interval.start,
    checks: state.checks + (check === null ? 0 : 1),
    failedChecks,
    skipped: state.skipped + (check === null ? 1 : 0),
    failedAt: fails ? interval.start : state.failedAt,
    step:
      check === null
        ? { clock, checks: prev.checks, last: prev.last }
        : { clock, checks: prev.checks + 1, last: check },
    last: check ?? state.last,
  };
}

function describeViolation(o: ThresholdOptions, c: ThresholdCheck, v: Violation): string {
  const pct = (x: number | null | undefined) => `${(100 * (x ?? NaN)).toFixed(2)}%`;
  switch (v) {
    case "successRate":
      return `success rate ${pct(c.successRate)} < ${pct(o.successRateMin)}`;
    case "errorRate":
      return `error rate ${pct(c.errorRate)} > ${pct(o.errorRateMax)}`;
    case "p99":
      return `p99 ${formatNumber(c.p99Ms ?? NaN)} ms > ${formatNumber(o.p99MaxMs ?? NaN)} ms`;
    case "noData":
      return "no canary requests";
  }
}

function limits(o: ThresholdOptions): string {
  const parts: string[] = [];
  if (o.successRateMin !== undefined)
    parts.push(`success rate >= ${(100 * o.successRateMin).toFixed(2)}%`);
  if (o.errorRateMax !== undefined)
    parts.push(`error rate <= ${(100 * o.errorRateMax).toFixed(2)}%`);
  if (o.p99MaxMs !== undefined) parts.push(`p99 <= ${formatNumber(o.p99MaxMs)} ms`);
  return parts.join(", ");
}

type ThresholdCondition = "failed" | "noData" | "baking" | "lastFailed" | "pass";

function classifyThresholds(state: ThresholdState): {
  verdict: Verdict;
  condition: ThresholdCondition;
} {
  const step = state.step;
  if (state.failedAt !== null) return { verdict: "fail", condition: "failed" };
  if (step === null || step.last === null) return { verdict: "inconclusive", condition: "noData" };
  if (step.clock.lastEnd - step.clock.startedAt < state.options.bakeMs) {
    return { verdict: "inconclusive", condition: "baking" };
  }
  if (!step.last.ok) return { verdict: "inconclusive", condition: "lastFailed" };
  return { verdict: "pass", condition: "pass" };
}

/** The verdict alone, cheaply (what evaluateThresholds would say). */
export function thresholdsVerdict(state: ThresholdState): Verdict {
  return classifyThresholds(state).verdict;
}

export function evaluateThresholds(state: ThresholdState): ThresholdResult {
  const o = state.options;
  const step = state.step;
  const elapsedMs = step ? step.clock.lastEnd - step.clock.startedAt : 0;
  const details: ThresholdDetails = {
    successRateMin: o.successRateMin ?? null,
    errorRateMax: o.errorRateMax ?? null,
    p99MaxMs: o.p99MaxMs ?? null,
    failAfter: o.failAfter,
    checks: state.checks,
    failedChecks: state.failedChecks,
    skipped: state.skipped,
    failedAt: state.failedAt,
    last: state.last,
    step: step ? { id: step.clock.id, elapsedMs, bakeMs: o.bakeMs, checks: step.checks } : null,
  };
  const counts = `${state.failedChecks} of ${state.checks} checks failed (fail at ${o.failAfter}; ${limits(o)})`;
  const last = state.last;
  const lastText =
    last === null
      ? "no check yet"
      : last.ok
        ? `last check ok (${last.errors}/${last.requests} errors${last.p99Ms !== null ? `, p99 ${formatNumber(last.p99Ms)} ms` : ""})`
        : `last check failed: ${last.violations.map((v) => describeViolation(o, last, v)).join("; ")}`;
  const { verdict, condition } = classifyThresholds(state);
  let why: string;
  switch (condition) {
    case "failed":
      why = `failed checks reached ${o.failAfter} at ${new Date(state.failedAt ?? 0).toISOString()}`;
      break;
    case "noData":
      why = "no check with data this step";
      break;
    case "baking":
      why = `step baked ${elapsedMs / 1000}s of ${o.bakeMs / 1000}s`;
      break;
    case "lastFailed":
      why = "the step's latest check failed";
      break;
    case "pass":
      why = `step baked ${elapsedMs / 1000}s`;
      break;
  }
  return { verdict, reason: `thresholds ${verdict}: ${counts}; ${lastText}; ${why}`, details };
}

export function judgeThresholds(
  intervals: readonly Interval[],
  options: Partial<ThresholdOptions> & { failAfter: number },
): ThresholdResult {
  return evaluateThresholds(intervals.reduce(updateThresholds, initThresholds(options)));
}
