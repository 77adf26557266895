/**
 * The canary judge: the error-rate sequential test and the latency rank test together.
 * fail if any enabled test fails; pass only if every enabled test passes; inconclusive otherwise.
 */
import {
  ErrorRateOptions,
  ErrorRateResult,
  ErrorRateState,
  errorRateVerdict,
  evaluateErrorRate,
  initErrorRate,
  updateErrorRate,
} from "./errorRate";
import {
  evaluateLatency,
  initLatency,
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

/** The verdict alone, cheaply (what evaluateJudge would say). */
export function judgeVerdict(state: JudgeState): Verdict {
  const verdicts: Verdict[] = [];
  if (state.errorRate) verdicts.push(errorRateVerdict(state.errorRate));
  if (state.latency) verdicts.push(latencyVerdict(state.latency));
  return combine(verdicts);
}

export function evaluateJudge(state: JudgeState): CanaryJudgeResult {
  const errorRate = state.errorRate && evaluateErrorRate(state.errorRate);
  const latency = state.latency && evaluateLatency(state.latency);
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
