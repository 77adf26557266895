import { Color } from "../../infra/contract/settings";
import { MetricsSource } from "../../infra/contract/outputs";
import { Interval } from "./interval";

export interface MetricsWindow {
  /** Start of the first interval wanted (epoch ms, inclusive). */
  from: number;
  /** End of the window (epoch ms, exclusive); only whole intervals ending by then are returned. */
  to: number;
  stableColor: Color;
  canaryColor: Color;
}

/**
 * Live per-target-group metrics, one interval every `intervalMs`, mapped to stable and canary,
 * with the load balancer's own 5xx per interval. Intervals in which a group served no request
 * have `requests: 0`. Only intervals that ended by `window.to` are returned; the gate sets `to`
 * `settleMs` before now, so late data are never read as zero.
 */
export interface MetricsReader {
  readonly description: string;
  /** Length of one interval (ms), as the stack output names it. */
  readonly intervalMs: number;
  /** How long after an interval ends its metrics count as settled (ms). */
  readonly settleMs: number;
  intervals(window: MetricsWindow): Promise<Interval[]>;
}

/** The stack output of one kind of metrics source. */
export type MetricsOutput<K extends MetricsSource["kind"]> = Extract<MetricsSource, { kind: K }>;

/**
 * One kind of metrics source (the stack output's `metricsSource.kind`): how to read its output.
 * The reader takes its interval and settle delay from the output, with its kind's defaults for
 * stacks deployed before those outputs existed.
 */
export interface MetricsSourceKind<K extends MetricsSource["kind"]> {
  kind: K;
  open(output: MetricsOutput<K>): MetricsReader;
}

/**
 * The interval of every stack deployed before `intervalSeconds` was an output: one minute,
 * CloudWatch's resolution for ALB metrics, which the local balancer had too.
 */
export const DEFAULT_INTERVAL_SECONDS = 60;

function seconds(output: MetricsSource, key: "intervalSeconds" | "settleSeconds"): unknown {
  return (output as Partial<Record<typeof key, unknown>>)[key];
}

/** Length of one interval (ms) from the stack output, the default for a stack deployed before it. */
export function intervalMsOf(output: MetricsSource): number {
  const value = seconds(output, "intervalSeconds");
  if (value === undefined || value === null) return DEFAULT_INTERVAL_SECONDS * 1000;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new Error(
      `the stack output metricsSource.intervalSeconds must be a number > 0, got ${JSON.stringify(value)}`,
    );
  }
  return value * 1000;
}

/**
 * How long after an interval ends its metrics count as settled (ms), from the stack output's
 * `settleSeconds`; a stack deployed before that output existed gets its source's default.
 */
export function settleMsOf(output: MetricsSource, defaultSeconds: number): number {
  const value = seconds(output, "settleSeconds");
  if (value === undefined || value === null) return defaultSeconds * 1000;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new Error(
      `the stack output metricsSource.settleSeconds must be a number >= 0, got ${JSON.stringify(value)}`,
    );
  }
  return value * 1000;
}
