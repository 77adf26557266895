/**
 * Metrics source over the local balancer's admin API (`GET /metrics`). The mapping from its JSON
 * to intervals is pure (`intervalsFromBalancer`); the reader only fetches it. The balancer lists
 * its intervals under the key `minutes` (its protocol's name, whatever their length).
 */
import { Color } from "../../infra/contract/settings";
import type { MetricsView } from "../../infra/local/balancer/adminApi";
import type { IntervalSnapshot } from "../../infra/local/balancer/trafficMetrics";
import { GroupSample, Interval } from "./interval";
import {
  intervalMsOf,
  MetricsOutput,
  MetricsReader,
  MetricsSourceKind,
  MetricsWindow,
  settleMsOf,
} from "./reader";

/** The stack output that points at the local balancer. */
export type LocalOutput = MetricsOutput<"local">;

/** The local balancer's counts are final once an interval ends: no settle delay by default. */
const DEFAULT_SETTLE_SECONDS = 0;

/**
 * The JSON of the local balancer's `GET /metrics`, as the balancer declares it (one definition of
 * the protocol, so producer and reader cannot drift); its fields are checked again on read.
 */
export type BalancerMetrics = MetricsView;
/** One interval of one target group, under the names the CloudWatch source maps from. */
export type BalancerGroupInterval = IntervalSnapshot;

/** The balancer answered something this driver cannot read; the message is one line. */
export class LocalMetricsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LocalMetricsError";
  }
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);

function count(where: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new LocalMetricsError(
      `${where} must be a finite number >= 0, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function intervalStart(where: string, value: unknown, intervalMs: number): number {
  const start = typeof value === "string" ? Date.parse(value) : NaN;
  if (!Number.isFinite(start) || start % intervalMs !== 0) {
    throw new LocalMetricsError(
      `${where} must be an ISO time on a ${intervalMs} ms boundary, got ${JSON.stringify(value)}`,
    );
  }
  return start;
}

function listOf(where: string, value: unknown): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new LocalMetricsError(`${where} must be a list, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Reads the intervals of one target group into samples by start; checks what it uses. */
function groupSamples(
  metrics: Record<string, unknown>,
  groupId: string,
  intervalMs: number,
): Map<number, GroupSample> {
  const samples = new Map<number, GroupSample>();
  const groups = metrics.targetGroups;
  const group = isObject(groups) ? groups[groupId] : undefined;
  if (!isObject(group)) return samples;
  const base = `targetGroups["${groupId}"].minutes`;
  listOf(base, group.minutes).forEach((m, i) => {
    const where = `${base}[${i}]`;
    if (!isObject(m)) throw new LocalMetricsError(`${where} must be an object`);
    const start = intervalStart(`${where}.start`, m.start, intervalMs);
    const requests = count(`${where}.requests`, m.requests);
    const errors = count(`${where}.errors5xx`, m.errors5xx);
    if (errors > requests) {
      throw new LocalMetricsError(
        `${where}.errors5xx must be at most requests (${requests}), got ${errors}`,
      );
    }
    const sample: GroupSample = { requests, errors };
    // Absent on a balancer that predates them: left undefined, the gates then ignore them.
    for (const key of ["connectionErrors", "unhealthyHosts", "healthyHosts"] as const) {
      if (m[key] !== undefined) sample[key] = count(`${where}.${key}`, m[key]);
    }
    const latency = m.latencyMs;
    if (isObject(latency)) sample.p99Ms = count(`${where}.latencyMs.p99`, latency.p99);
    if (samples.has(start)) {
      throw new LocalMetricsError(`${base} has ${String(m.start)} twice`);
    }
    samples.set(start, sample);
  });
  return samples;
}

function balancerErrorsByStart(
  metrics: Record<string, unknown>,
  intervalMs: number,
): Map<number, number> {
  const errors = new Map<number, number>();
  const lb = metrics.loadBalancer;
  if (!isObject(lb)) return errors;
  listOf("loadBalancer.minutes", lb.minutes).forEach((m, i) => {
    const where = `loadBalancer.minutes[${i}]`;
    if (!isObject(m)) throw new LocalMetricsError(`${where} must be an object`);
    const start = intervalStart(`${where}.start`, m.start, intervalMs);
    if (errors.has(start)) {
      throw new LocalMetricsError(`loadBalancer.minutes has ${String(m.start)} twice`);
    }
    errors.set(start, count(`${where}.errors5xx`, m.errors5xx));
  });
  return errors;
}

/**
 * Maps the balancer's per-interval buckets to intervals. A group's `errors` are the 5xx its
 * targets answered; the 5xx the balancer answered itself (no target, failed connection) are the
 * interval's `balancerErrors`, not any group's: on AWS they carry no target group either. An
 * interval in which a group served nothing is `requests: 0`; only intervals that ended by
 * `window.to` are returned.
 */
export function intervalsFromBalancer(
  metrics: unknown,
  groups: Record<Color, string>,
  window: MetricsWindow,
  intervalMs: number,
): Interval[] {
  if (!isObject(metrics) || !isObject(metrics.targetGroups)) {
    throw new LocalMetricsError(
      `the balancer's metrics must be an object with targetGroups, got ${JSON.stringify(metrics)?.slice(0, 80)}`,
    );
  }
  if (metrics.intervalMs !== undefined && metrics.intervalMs !== intervalMs) {
    throw new LocalMetricsError(
      `the balancer's metrics have intervalMs ${JSON.stringify(metrics.intervalMs)}, ` +
        `but the stack outputs say ${intervalMs}: run \`pulumi up\` to bring them in line`,
    );
  }
  const stable = groupSamples(metrics, groups[window.stableColor], intervalMs);
  const canary = groupSamples(metrics, groups[window.canaryColor], intervalMs);
  const balancer = balancerErrorsByStart(metrics, intervalMs);
  const starts = [...new Set([...stable.keys(), ...canary.keys(), ...balancer.keys()])]
    .filter((start) => start >= window.from && start + intervalMs <= window.to)
    .sort((a, b) => a - b);
  return starts.map((start) => {
    const interval: Interval = {
      start,
      stable: stable.get(start) ?? { requests: 0 },
      canary: canary.get(start) ?? { requests: 0 },
    };
    const balancerErrors = balancer.get(start);
    if (balancerErrors !== undefined) interval.balancerErrors = balancerErrors;
    return interval;
  });
}

/** Per-interval metrics of the local platform's balancer, from the admin URL in the stack outputs. */
export class LocalBalancerMetricsReader implements MetricsReader {
  readonly description: string;
  readonly intervalMs: number;
  readonly settleMs: number;
  private readonly adminUrl: string;
  private readonly groups: Record<Color, string>;

  constructor(output: LocalOutput) {
    this.adminUrl = output.adminUrl;
    this.groups = output.targetGroupArnSuffixes;
    this.intervalMs = intervalMsOf(output);
    this.settleMs = settleMsOf(output, DEFAULT_SETTLE_SECONDS);
    this.description = `local balancer ${this.adminUrl}/metrics`;
  }

  async intervals(window: MetricsWindow): Promise<Interval[]> {
    const url = `${this.adminUrl}/metrics`;
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
    try {
      return intervalsFromBalancer(await res.json(), this.groups, window, this.intervalMs);
    } catch (err) {
      if (err instanceof LocalMetricsError || err instanceof SyntaxError) {
        throw new LocalMetricsError(`GET ${url}: ${err.message}`);
      }
      throw err;
    }
  }
}

/** Metrics of stacks on the local platform: the `local` output. */
export const localSource: MetricsSourceKind<"local"> = {
  kind: "local",
  open: (output) => new LocalBalancerMetricsReader(output),
};
