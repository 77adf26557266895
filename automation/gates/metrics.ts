import { Interval, judge, judgeThresholds } from "../judge";
import { MetricsSource } from "../metrics/source";
import { MetricsGateSettings } from "../release/state";
import { Gate, GateContext, GateResult } from "./gate";

/** Labels each interval with the step it started in; drops those before the first step. */
export function labelSteps(
  intervals: Interval[],
  stepStarts: number[],
  intervalMs: number,
): Interval[] {
  const first = Math.floor(stepStarts[0] / intervalMs) * intervalMs;
  return intervals
    .filter((i) => i.start >= first)
    .map((i) => {
      let step = 0;
      for (let s = 0; s < stepStarts.length; s++) if (stepStarts[s] <= i.start) step = s;
      return { ...i, step };
    });
}

/**
 * Canary vs stable from live metrics. Below 100 % the sequential judge compares
 * the two colours over the whole release so far; at 100 % no stable traffic is
 * left to compare with, so the canary alone is held to the plain limits.
 */
export class MetricsGate implements Gate {
  readonly name = "metrics";

  constructor(
    private readonly source: MetricsSource,
    private readonly settings: MetricsGateSettings,
    private readonly intervalMs: number,
  ) {}

  async check({ release, step, stepIndex, now }: GateContext): Promise<GateResult> {
    const stepStarts = release.stepStarts.slice(0, stepIndex + 1);
    const from = Math.floor(stepStarts[0] / this.intervalMs) * this.intervalMs;
    const raw = await this.source.intervals({
      from,
      to: now,
      stableColor: release.stableColor,
      canaryColor: release.canaryColor,
    });
    const intervals = labelSteps(raw, stepStarts, this.intervalMs);
    // Until a whole interval of this step has ended, the judge would still speak of the last one.
    if (!intervals.some((i) => i.step === stepIndex)) {
      return {
        gate: this.name,
        verdict: "inconclusive",
        reason: `no whole ${this.intervalMs / 1000}s interval of step ${stepIndex + 1} yet`,
      };
    }
    const s = this.settings;
    if (s.mode === "thresholds" || step.weight === 100) {
      const current =
        s.mode === "thresholds" ? intervals : intervals.filter((i) => i.step === stepIndex);
      const result = judgeThresholds(current, {
        errorRateMax: s.maxErrorRate,
        p99MaxMs: s.maxP99Ms,
        failAfter: s.failAfter,
        bakeMs: step.bakeMs,
        intervalMs: this.intervalMs,
      });
      return {
        gate: this.name,
        verdict: result.verdict,
        reason: result.reason,
        details: result.details,
      };
    }
    const result = judge(intervals, {
      errorRate: {
        allowedRatio: s.allowedErrorRatio,
        minCanaryRequests: s.minRequests,
        bakeMs: step.bakeMs,
        intervalMs: this.intervalMs,
      },
      latency:
        s.allowedLatencyRatio > 0
          ? {
              allowedRatio: s.allowedLatencyRatio,
              bakeMs: step.bakeMs,
              intervalMs: this.intervalMs,
            }
          : false,
    });
    return {
      gate: this.name,
      verdict: result.verdict,
      reason: result.reason,
      details: result.details,
    };
  }
}
