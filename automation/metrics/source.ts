import { Color } from "../../infra/contract/settings";
import { MetricsSource as MetricsSourceOutput } from "../../infra/contract/outputs";
import { Interval } from "../judge/types";

export interface MetricsWindow {
  /** Start of the first interval wanted (epoch ms, inclusive). */
  from: number;
  /** End of the window (epoch ms, exclusive); only whole intervals ending by then are returned. */
  to: number;
  stableColor: Color;
  canaryColor: Color;
}

/**
 * Live per-target-group metrics, one interval a minute (or the interval the outputs name),
 * mapped to stable and canary, with the load balancer's own 5xx per interval. Minutes in which a
 * group served no request have `requests: 0`. Only intervals that ended by `window.to` are
 * returned; the gate sets `to` a settle delay before now, so late data are never read as zero.
 */
export interface MetricsSource {
  readonly description: string;
  intervals(window: MetricsWindow): Promise<Interval[]>;
}

/** Settle delay of stacks deployed before the output existed: CloudWatch's ALB data arrive late. */
export const DEFAULT_SETTLE_SECONDS: Readonly<Record<MetricsSourceOutput["kind"], number>> = {
  cloudwatch: 180,
  local: 0,
};

/**
 * How long after an interval ends its metrics count as settled (ms), from the stack output's
 * `settleSeconds`; a stack deployed before that output existed gets the default of its kind.
 */
export function settleMsOf(output: MetricsSourceOutput): number {
  const seconds = (output as { settleSeconds?: unknown }).settleSeconds;
  if (seconds === undefined || seconds === null) return DEFAULT_SETTLE_SECONDS[output.kind] * 1000;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
    throw new Error(
      `the stack output metricsSource.settleSeconds must be a number >= 0, got ${JSON.stringify(seconds)}`,
    );
  }
  return seconds * 1000;
}
