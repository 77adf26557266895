import { Color } from "../../infra/config";
import { GroupSample, Interval } from "../judge/types";
import { MetricsSource, MetricsWindow } from "./source";

/** One minute of one target group, as the local balancer's admin API reports it. */
export interface BalancerMinute {
  start: string;
  requests: number;
  errors5xx: number;
  balancerErrors5xx: number;
  latencyMs: { p50: number; p90: number; p99: number } | null;
}

export interface BalancerMetrics {
  targetGroups: Record<string, { minutes: BalancerMinute[] }>;
}

/**
 * Maps the balancer's per-minute buckets to intervals. 5xx answered by the
 * balancer itself (no healthy target) count against the group they were meant
 * for. A minute in which a group served nothing is `requests: 0`; only minutes
 * that ended by `window.to` are returned.
 */
export function intervalsFromBalancer(
  metrics: BalancerMetrics,
  groups: Record<Color, string>,
  window: MetricsWindow,
  intervalMs: number,
): Interval[] {
  const byStart = (color: Color) =>
    new Map(
      (metrics.targetGroups[groups[color]]?.minutes ?? []).map((m) => [Date.parse(m.start), m]),
    );
  const stable = byStart(window.stableColor);
  const canary = byStart(window.canaryColor);
  const sample = (m: BalancerMinute | undefined): GroupSample =>
    m === undefined
      ? { requests: 0 }
      : {
          requests: m.requests,
          errors: m.errors5xx + m.balancerErrors5xx,
          ...(m.latencyMs ? { p99Ms: m.latencyMs.p99 } : {}),
        };
  const starts = [...new Set([...stable.keys(), ...canary.keys()])]
    .filter((start) => start >= window.from && start + intervalMs <= window.to)
    .sort((a, b) => a - b);
  return starts.map((start) => ({
    start,
    stable: sample(stable.get(start)),
    canary: sample(canary.get(start)),
  }));
}

/** Per-minute metrics of the local platform's balancer, from the admin URL in the stack outputs. */
export class LocalBalancerMetricsSource implements MetricsSource {
  readonly description: string;

  constructor(
    private readonly adminUrl: string,
    private readonly groups: Record<Color, string>,
    private readonly intervalMs = 60_000,
  ) {
    this.description = `local balancer ${adminUrl}/metrics`;
  }

  async intervals(window: MetricsWindow): Promise<Interval[]> {
    const res = await fetch(`${this.adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`GET ${this.adminUrl}/metrics answered ${res.status}`);
    return intervalsFromBalancer(
      (await res.json()) as BalancerMetrics,
      this.groups,
      window,
      this.intervalMs,
    );
  }
}
