/**
 * What the load balancer itself says about the canary: the 5xx it answered itself, the
 * connections to the canary's targets that failed, and the canary's target health. A canary
 * that crashes, resets connections or times out shows up here and not in its own 5xx count
 * (an ALB answers 502/503/504 for it and counts them in `HTTPCode_ELB_5XX_Count`, which has no
 * target-group dimension).
 *
 * Three rules over the settled intervals of the current step; each can hold or fail the step,
 * none can pass it on its own (the gate's other tests decide that: no data never passes).
 *
 * 1. Load-balancer 5xx. They cannot be attributed to a colour, so the stable's share is taken
 *    from before the canary got traffic: the baseline rate r0 = B0 / N0, the balancer's 5xx per
 *    request of the intervals before the first step. No baseline requests: r0 = 0 (any excess
 *    counts against the canary). In the step, with N requests of both colours, B balancer 5xx
 *    and Nc canary requests, mu = r0 N are the 5xx expected without the canary; the excess
 *    B - mu is the canary's. The step fails when the excess is significant, P(Poisson(mu) >= B)
 *    at or below the level of this look (below), AND excess / Nc is above the allowed error
 *    rate (settings maxErrorRate; with Nc = 0 any excess is above it).
 *    Why a Poisson test with r0 taken as known, rather than an exact two-sample test of the two
 *    rates (binomial, conditional on B0 + B): the two-sample test counts the baseline's own
 *    sampling error, so with a short baseline (a deploy that took one or two intervals) it can
 *    never reject, and a crashing canary would pass. Taking r0 as known errs towards failing when
 *    the baseline happened to be low; the second condition, an excess above the allowed error
 *    rate, keeps such a false fail from a small, merely significant excess.
 * 2. Target connection errors, canary against stable in the same intervals (those in which both
 *    colours had attempts: requests plus failed connections, since a connection that failed
 *    need not count as a request). Given x canary and y stable errors and attempts a_c, a_s,
 *    the canary's share is Binomial(x + y, a_c / (a_c + a_s)) when both colours fail at the
 *    same rate (exact for Poisson counts). The step fails when the canary's rate is above the
 *    stable's and P(X >= x) is at or below the level of this look. At 100 % no stable traffic
 *    is left: nothing to compare (the balancer's 5xx still count, rule 1).
 * 3. Canary target health. Unhealthy canary hosts in the step's latest interval hold the step
 *    (the count is in the reason) until an interval shows them recovered, so a blip that passed
 *    does not hold a step for good; failAfter such intervals in a row fail it; an interval with no healthy
 *    canary host while the canary has weight fails it at once (the ALB then sends the
 *    canary's share to failing targets, or answers 503 for it). An interval without a host count
 *    neither extends nor breaks a run.
 *
 * Level of a look. The gate re-reads the step at every check, and the data change each time an
 * interval settles; a fixed-level test repeated at every look would fail a good canary far more
 * often than its level. Look k of step j (k = the step's settled intervals, both from 1) tests
 * at alpha (6/pi^2)^2 / (j^2 k^2), the spending the latency test uses: the levels sum to alpha
 * over all steps and looks, so by the union bound a good canary fails a rule with probability
 * at most alpha (0.01) over the release, however often it is checked. A p-value at or below
 * alpha but above the look's level holds the step (suspicious, not yet proven). Fields absent
 * from every interval (old data) switch their rule off: the gate then behaves as before.
 */
import { spentAlpha } from "./latency";
import { GroupSample, Interval } from "../metrics/interval";
import { checkOption, formatNumber, JudgeInputError, JudgeResult, Verdict } from "./types";

export interface SignalOptions {
  /** The largest share of the canary's requests its excess load-balancer 5xx may be. */
  maxErrorRate: number;
  /** Intervals in a row with unhealthy canary hosts that fail the step. */
  failAfter: number;
  /** Overall false-fail probability of each test over a release, spent over steps and looks. */
  alpha: number;
}

export const DEFAULT_SIGNAL_ALPHA = 0.01;

export interface SignalInput {
  /** Intervals before the canary got traffic: the stable's own load-balancer 5xx rate. */
  baseline: readonly Interval[];
  /** The settled intervals of the current step, in order. */
  current: readonly Interval[];
  /** The current step, from 0. */
  stepIndex: number;
  /** The canary's weight in this step (percent). */
  canaryWeight: number;
}

export interface BalancerErrorsDetails {
  baseline: { intervals: number; requests: number; errors: number; rate: number };
  step: { intervals: number; requests: number; canaryRequests: number; errors: number };
  /** 5xx the balancer would have answered at the baseline rate. */
  expected: number;
  excess: number;
  /** excess / canary requests; Infinity for an excess without canary requests. */
  excessRate: number;
  maxErrorRate: number;
  pValue: number;
  level: number;
  alpha: number;
}

export interface ConnectionErrorsDetails {
  /** Intervals in which both colours had attempts. */
  intervals: number;
  canary: { requests: number; errors: number; rate: number | null };
  stable: { requests: number; errors: number; rate: number | null };
  pValue: number | null;
  level: number;
  alpha: number;
}

export interface HostHealthDetails {
  /** Intervals of the step with a canary host count. */
  intervals: number;
  unhealthyIntervals: number;
  maxUnhealthy: number;
  longestRun: number;
  failAfter: number;
  minHealthy: number | null;
  /** Start of the first interval without a healthy canary host, or null. */
  noHealthyAt: number | null;
}

export type BalancerErrorsResult = JudgeResult<BalancerErrorsDetails>;
export type ConnectionErrorsResult = JudgeResult<ConnectionErrorsDetails>;
export type HostHealthResult = JudgeResult<HostHealthDetails>;

export interface SignalsDetails {
  balancerErrors: BalancerErrorsResult | null;
  connectionErrors: ConnectionErrorsResult | null;
  hostHealth: HostHealthResult | null;
}

export type SignalsResult = JudgeResult<SignalsDetails>;

/** ln Gamma(x) for x > 0: Stirling's series from 10 up, the recurrence below it. */
export function logGamma(x: number): number {
  let shift = 0;
  while (x < 10) {
    shift += Math.log(x);
    x += 1;
  }
  const inv = 1 / x;
  const inv2 = inv * inv;
  const series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)));
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + series - shift;
}

/**
 * Sum of a run of terms given the log of the first and the ratio of each next term to its
 * predecessor (decreasing below 1); returned as a log. Stops when a term no longer counts.
 */
function logSumFrom(logFirst: number, ratio: (i: number) => number, terms: number): number {
  let term = 1;
  let sum = 1;
  for (let i = 0; i < terms - 1; i++) {
    term *= ratio(i);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return logFirst + Math.log(sum);
}

/** P(X >= k) for X ~ Poisson(mu). */
export function poissonUpperTail(k: number, mu: number): number {
  if (k <= 0) return 1;
  if (mu <= 0) return 0;
  const logPmf = (j: number) => -mu + j * Math.log(mu) - logGamma(j + 1);
  if (k > mu) {
    // Terms from k up shrink: sum them.
    return Math.min(1, Math.exp(logSumFrom(logPmf(k), (i) => mu / (k + i + 1), Infinity)));
  }
  // k <= mu: the tail is large; 1 - P(X <= k - 1), summing down from k - 1.
  const lower = Math.exp(logSumFrom(logPmf(k - 1), (i) => (k - 1 - i) / mu, k));
  return Math.max(0, 1 - lower);
}

/** P(X >= k) for X ~ Binomial(n, q). */
export function binomialUpperTail(k: number, n: number, q: number): number {
  if (k <= 0) return 1;
  if (k > n || q <= 0) return 0;
  if (q >= 1) return 1;
  const odds = q / (1 - q);
  const logPmf = (j: number) =>
    logGamma(n + 1) -
    logGamma(j + 1) -
    logGamma(n - j + 1) +
    j * Math.log(q) +
    (n - j) * Math.log(1 - q);
  if (k > n * q) {
    return Math.min(
      1,
      Math.exp(logSumFrom(logPmf(k), (i) => ((n - k - i) / (k + i + 1)) * odds, n - k + 1)),
    );
  }
  const lower = Math.exp(logSumFrom(logPmf(k - 1), (i) => (k - 1 - i) / (n - k + 2 + i) / odds, k));
  return Math.max(0, 1 - lower);
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

function checkSignalFields(interval: Interval, where: string): void {
  const check = (name: string, value: number | undefined) => {
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
      throw new JudgeInputError(`${where}.${name} must be a finite number >= 0, got ${value}`);
    }
  };
  check("balancerErrors", interval.balancerErrors);
  for (const colour of ["stable", "canary"] as const) {
    const s: GroupSample = interval[colour];
    if (!Number.isFinite(s.requests) || s.requests < 0) {
      throw new JudgeInputError(
        `${where}.${colour}.requests must be a finite number >= 0, got ${s.requests}`,
      );
    }
    check(`${colour}.connectionErrors`, s.connectionErrors);
    check(`${colour}.unhealthyHosts`, s.unhealthyHosts);
    check(`${colour}.healthyHosts`, s.healthyHosts);
  }
}

export function resolveSignalOptions(options: Partial<SignalOptions>): SignalOptions {
  const o: SignalOptions = {
    maxErrorRate: 0.01,
    failAfter: 3,
    alpha: DEFAULT_SIGNAL_ALPHA,
    ...options,
  };
  checkOption("signals.maxErrorRate", o.maxErrorRate, 0, 1);
  checkOption("signals.failAfter", o.failAfter, 1, Infinity, { integer: true });
  checkOption("signals.alpha", o.alpha, 0, 1, { openMin: true, openMax: true });
  return o;
}

/** The level of the current look: see the top of this file. */
function lookLevel(input: SignalInput, alpha: number): number {
  return spentAlpha(alpha, input.stepIndex + 1, Math.max(1, input.current.length));
}

/** Rule 1; null when no interval carries the balancer's 5xx count. */
export function judgeBalancerErrors(
  input: SignalInput,
  options: SignalOptions,
): BalancerErrorsResult | null {
  const all = [...input.baseline, ...input.current];
  if (!all.some((i) => i.balancerErrors !== undefined)) return null;
  const requests = (i: Interval) => i.stable.requests + i.canary.requests;
  const sum = (xs: readonly Interval[], f: (i: Interval) => number) =>
    xs.reduce((n, i) => n + f(i), 0);
  const B0 = sum(input.baseline, (i) => i.balancerErrors ?? 0);
  const N0 = sum(input.baseline, requests);
  const r0 = N0 > 0 ? B0 / N0 : 0;
  const B = sum(input.current, (i) => i.balancerErrors ?? 0);
  const N = sum(input.current, requests);
  const Nc = sum(input.current, (i) => i.canary.requests);
  const expected = r0 * N;
  const excess = Math.max(0, B - expected);
  const excessRate = Nc > 0 ? excess / Nc : excess > 0 ? Infinity : 0;
  const pValue = poissonUpperTail(B, expected);
  const level = lookLevel(input, options.alpha);
  const above = excessRate > options.maxErrorRate;
  const verdict: Verdict =
    above && pValue <= level ? "fail" : above && pValue <= options.alpha ? "inconclusive" : "pass";

  const k = input.current.length;
  const baselineText =
    N0 > 0
      ? `${pct(r0)} (${B0}/${N0} requests before the first step)`
      : `0 (no request before the first step: counted as 0 errors)`;
  const excessText =
    Nc > 0
      ? `${pct(excessRate)} of ${Nc} canary requests`
      : excess > 0
        ? "with no canary request served"
        : "with no canary request";
  const test = `p ${formatNumber(pValue)}`;
  const tail =
    verdict === "fail"
      ? `${test} <= ${formatNumber(level)} and above the allowed ${pct(options.maxErrorRate)}`
      : verdict === "inconclusive"
        ? `above the allowed ${pct(options.maxErrorRate)}, ${test} <= alpha ${formatNumber(options.alpha)} ` +
          `but not yet <= ${formatNumber(level)}`
        : `${test}, allowed ${pct(options.maxErrorRate)}`;
  const reason =
    `load-balancer 5xx ${verdict}: ${B} in ${k} interval${k === 1 ? "" : "s"} of this step vs ` +
    `${formatNumber(expected)} expected at the baseline ${baselineText}; excess ` +
    `${formatNumber(excess)} = ${excessText}; ${tail}`;
  return {
    verdict,
    reason,
    details: {
      baseline: { intervals: input.baseline.length, requests: N0, errors: B0, rate: r0 },
      step: { intervals: k, requests: N, canaryRequests: Nc, errors: B },
      expected,
      excess,
      excessRate,
      maxErrorRate: options.maxErrorRate,
      pValue,
      level,
      alpha: options.alpha,
    },
  };
}

/** Rule 2; null when no interval of the step carries connection errors. */
export function judgeConnectionErrors(
  input: SignalInput,
  options: SignalOptions,
): ConnectionErrorsResult | null {
  const has = (i: Interval) =>
    i.canary.connectionErrors !== undefined || i.stable.connectionErrors !== undefined;
  if (!input.current.some(has)) return null;
  const totals = { canary: { requests: 0, errors: 0 }, stable: { requests: 0, errors: 0 } };
  let intervals = 0;
  for (const i of input.current) {
    const xc = i.canary.connectionErrors ?? 0;
    const xs = i.stable.connectionErrors ?? 0;
    if (i.canary.requests + xc === 0 || i.stable.requests + xs === 0) continue;
    intervals++;
    totals.canary.requests += i.canary.requests;
    totals.canary.errors += xc;
    totals.stable.requests += i.stable.requests;
    totals.stable.errors += xs;
  }
  const attempts = (c: { requests: number; errors: number }) => c.requests + c.errors;
  const rateOf = (c: { requests: number; errors: number }) =>
    attempts(c) > 0 ? c.errors / attempts(c) : null;
  const canaryRate = rateOf(totals.canary);
  const stableRate = rateOf(totals.stable);
  const level = lookLevel(input, options.alpha);
  const x = totals.canary.errors;
  const e = x + totals.stable.errors;
  const pValue =
    intervals === 0
      ? null
      : binomialUpperTail(
          x,
          e,
          attempts(totals.canary) / (attempts(totals.canary) + attempts(totals.stable)),
        );
  const worse = canaryRate !== null && stableRate !== null && canaryRate > stableRate;
  const verdict: Verdict =
    pValue !== null && worse && pValue <= level
      ? "fail"
      : pValue !== null && worse && pValue <= options.alpha
        ? "inconclusive"
        : "pass";
  const side = (name: string, c: { requests: number; errors: number }) =>
    `${name} ${c.errors} in ${c.requests} requests (${attempts(c) > 0 ? pct(c.errors / attempts(c)) : "n/a"})`;
  let why: string;
  if (pValue === null) {
    why = "no interval of this step in which both colours had traffic: nothing to compare";
  } else {
    const test = `p ${formatNumber(pValue)}`;
    why =
      `${side("canary", totals.canary)} vs ${side("stable", totals.stable)} ` +
      `over ${intervals} interval${intervals === 1 ? "" : "s"}; ` +
      (verdict === "fail"
        ? `${test} <= ${formatNumber(level)}`
        : verdict === "inconclusive"
          ? `${test} <= alpha ${formatNumber(options.alpha)} but not yet <= ${formatNumber(level)}`
          : test);
  }
  return {
    verdict,
    reason: `target connection errors ${verdict}: ${why}`,
    details: {
      intervals,
      canary: { ...totals.canary, rate: canaryRate },
      stable: { ...totals.stable, rate: stableRate },
      pValue,
      level,
      alpha: options.alpha,
    },
  };
}

/** Rule 3; null when no interval of the step carries a canary host count. */
export function judgeHostHealth(
  input: SignalInput,
  options: SignalOptions,
): HostHealthResult | null {
  const counted = input.current.filter(
    (i) => i.canary.unhealthyHosts !== undefined || i.canary.healthyHosts !== undefined,
  );
  if (counted.length === 0) return null;
  let unhealthyIntervals = 0;
  let maxUnhealthy = 0;
  let run = 0;
  let longestRun = 0;
  let minHealthy: number | null = null;
  let noHealthy: Interval | null = null;
  for (const i of counted) {
    const { unhealthyHosts, healthyHosts } = i.canary;
    if (unhealthyHosts !== undefined) {
      if (unhealthyHosts > 0) {
        unhealthyIntervals++;
        maxUnhealthy = Math.max(maxUnhealthy, unhealthyHosts);
        run++;
        longestRun = Math.max(longestRun, run);
      } else {
        run = 0;
      }
    }
    if (healthyHosts !== undefined) {
      minHealthy = minHealthy === null ? healthyHosts : Math.min(minHealthy, healthyHosts);
      if (healthyHosts === 0 && input.canaryWeight > 0 && noHealthy === null) noHealthy = i;
    }
  }
  const n = counted.length;
  const hosts = (k: number) => `${formatNumber(k)} unhealthy canary host${k === 1 ? "" : "s"}`;
  let verdict: Verdict;
  let why: string;
  if (noHealthy !== null) {
    verdict = "fail";
    const unhealthy = noHealthy.canary.unhealthyHosts;
    why =
      `no healthy canary host in the interval from ${new Date(noHealthy.start).toISOString()} ` +
      `while the canary has ${input.canaryWeight}% of the traffic` +
      (unhealthy !== undefined ? ` (${hosts(unhealthy)})` : "");
  } else if (longestRun >= options.failAfter) {
    verdict = "fail";
    why =
      `unhealthy canary hosts in ${longestRun} intervals in a row (up to ${formatNumber(maxUnhealthy)}; ` +
      `fail after ${options.failAfter})`;
  } else if (run > 0) {
    verdict = "inconclusive";
    why =
      `up to ${hosts(maxUnhealthy)} in the last ${run} interval${run === 1 ? "" : "s"} ` +
      `of this step (fail after ${options.failAfter} in a row)`;
  } else if (unhealthyIntervals > 0) {
    verdict = "pass";
    why =
      `canary hosts recovered: up to ${hosts(maxUnhealthy)} in ${unhealthyIntervals} of ${n} ` +
      `interval${n === 1 ? "" : "s"} of this step, none in the latest`;
  } else {
    verdict = "pass";
    why =
      `no unhealthy canary host in ${n} interval${n === 1 ? "" : "s"} of this step` +
      (minHealthy !== null ? ` (fewest healthy ${formatNumber(minHealthy)})` : "");
  }
  return {
    verdict,
    reason: `canary hosts ${verdict}: ${why}`,
    details: {
      intervals: n,
      unhealthyIntervals,
      maxUnhealthy,
      longestRun,
      failAfter: options.failAfter,
      minHealthy,
      noHealthyAt: noHealthy?.start ?? null,
    },
  };
}

/**
 * The three rules together: fail if any fails, inconclusive if any holds, pass otherwise (which
 * only means "no objection"). Null when the intervals carry none of the signals (old data).
 */
export function judgeSignals(
  input: SignalInput,
  options: Partial<SignalOptions> = {},
): SignalsResult | null {
  const o = resolveSignalOptions(options);
  input.baseline.forEach((i, k) => checkSignalFields(i, `baseline[${k}]`));
  input.current.forEach((i, k) => checkSignalFields(i, `intervals[${k}]`));
  const details: SignalsDetails = {
    balancerErrors: judgeBalancerErrors(input, o),
    connectionErrors: judgeConnectionErrors(input, o),
    hostHealth: judgeHostHealth(input, o),
  };
  const parts: JudgeResult<unknown>[] = [];
  for (const r of [details.balancerErrors, details.connectionErrors, details.hostHealth]) {
    if (r !== null) parts.push(r);
  }
  if (parts.length === 0) return null;
  const verdicts = parts.map((r) => r.verdict);
  const verdict: Verdict = verdicts.includes("fail")
    ? "fail"
    : verdicts.includes("inconclusive")
      ? "inconclusive"
      : "pass";
  const decisive = verdict === "pass" ? parts : parts.filter((r) => r.verdict === verdict);
  const rest = parts.filter((r) => !decisive.includes(r));
  const reason = [...decisive, ...rest].map((r) => r.reason).join(" | ");
  return { verdict, reason: `signals ${verdict}: ${reason}`, details };
}
