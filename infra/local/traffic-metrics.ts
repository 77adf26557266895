import { percentileOfSorted } from "./percentiles";

/**
 * Per-target-group request metrics of the balancer, bucketed by wall-clock
 * minute like CloudWatch's ALB metrics: request count, 5xx answered by targets,
 * 5xx the balancer answered itself (target unreachable), and target response
 * time percentiles. Minutes without requests have no bucket (no datapoint).
 */
export interface RequestOutcome {
  status: number;
  /** Target response time (request sent to first response byte); absent when no target answered. */
  latencyMs?: number;
}

export interface LatencyPercentiles {
  p50: number;
  p90: number;
  p99: number;
}

export interface MinuteSnapshot {
  start: string;
  requests: number;
  errors5xx: number;
  balancerErrors5xx: number;
  latencyMs: LatencyPercentiles | null;
}

export interface GroupTotals {
  since: string;
  requests: number;
  errors5xx: number;
  balancerErrors5xx: number;
}

export interface GroupSnapshot {
  totals: GroupTotals;
  minutes: MinuteSnapshot[];
}

export interface TrafficMetricsOptions {
  /** Length of one bucket (ms); a minute, like CloudWatch, unless the stack asks for shorter. */
  intervalMs: number;
  /** Buckets kept. */
  retainMinutes: number;
  /** Latency samples kept per minute; beyond it a uniform reservoir sample is kept. */
  maxSamplesPerMinute: number;
  random: () => number;
}

interface MinuteBucket {
  requests: number;
  errors5xx: number;
  balancerErrors5xx: number;
  latencySeen: number;
  samples: number[];
}

interface GroupRecord {
  sinceMs: number;
  requests: number;
  errors5xx: number;
  balancerErrors5xx: number;
  minutes: Map<number, MinuteBucket>;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

export class TrafficMetrics {
  private readonly groups = new Map<string, GroupRecord>();
  private readonly options: TrafficMetricsOptions;

  constructor(options: Partial<TrafficMetricsOptions> = {}) {
    this.options = {
      intervalMs: 60_000,
      retainMinutes: 60,
      maxSamplesPerMinute: 10_000,
      random: Math.random,
      ...options,
    };
  }

  /** Makes a group show up (with zero totals) before its first request. */
  ensureGroup(groupId: string, nowMs: number): void {
    if (!this.groups.has(groupId)) {
      this.groups.set(groupId, {
        sinceMs: nowMs,
        requests: 0,
        errors5xx: 0,
        balancerErrors5xx: 0,
        minutes: new Map(),
      });
    }
  }

  record(groupId: string, nowMs: number, outcome: RequestOutcome): void {
    this.ensureGroup(groupId, nowMs);
    const group = this.groups.get(groupId) as GroupRecord;
    const interval = this.options.intervalMs;
    const minute = Math.floor(nowMs / interval) * interval;
    let bucket = group.minutes.get(minute);
    if (!bucket) {
      bucket = { requests: 0, errors5xx: 0, balancerErrors5xx: 0, latencySeen: 0, samples: [] };
      group.minutes.set(minute, bucket);
      this.prune(group, minute);
    }
    const is5xx = outcome.status >= 500 && outcome.status <= 599;
    const fromTarget = outcome.latencyMs !== undefined;
    group.requests += 1;
    bucket.requests += 1;
    if (is5xx && fromTarget) {
      group.errors5xx += 1;
      bucket.errors5xx += 1;
    } else if (is5xx) {
      group.balancerErrors5xx += 1;
      bucket.balancerErrors5xx += 1;
    }
    if (outcome.latencyMs !== undefined) this.sample(bucket, outcome.latencyMs);
  }

  snapshot(): Record<string, GroupSnapshot> {
    const result: Record<string, GroupSnapshot> = {};
    for (const [id, group] of this.groups) {
      result[id] = {
        totals: {
          since: new Date(group.sinceMs).toISOString(),
          requests: group.requests,
          errors5xx: group.errors5xx,
          balancerErrors5xx: group.balancerErrors5xx,
        },
        minutes: [...group.minutes.entries()]
          .sort(([a], [b]) => a - b)
          .map(([start, bucket]) => minuteSnapshot(start, bucket)),
      };
    }
    return result;
  }

  private sample(bucket: MinuteBucket, latencyMs: number): void {
    bucket.latencySeen += 1;
    if (bucket.samples.length < this.options.maxSamplesPerMinute) {
      bucket.samples.push(latencyMs);
      return;
    }
    const slot = Math.floor(this.options.random() * bucket.latencySeen);
    if (slot < bucket.samples.length) bucket.samples[slot] = latencyMs;
  }

  private prune(group: GroupRecord, newestMinute: number): void {
    const oldest = newestMinute - (this.options.retainMinutes - 1) * this.options.intervalMs;
    for (const minute of group.minutes.keys()) {
      if (minute < oldest) group.minutes.delete(minute);
    }
  }
}

function minuteSnapshot(start: number, bucket: MinuteBucket): MinuteSnapshot {
  const sorted = [...bucket.samples].sort((a, b) => a - b);
  const at = (p: number) => round3(percentileOfSorted(sorted, p) as number);
  return {
    start: new Date(start).toISOString(),
    requests: bucket.requests,
    errors5xx: bucket.errors5xx,
    balancerErrors5xx: bucket.balancerErrors5xx,
    latencyMs: sorted.length === 0 ? null : { p50: at(50), p90: at(90), p99: at(99) },
  };
}
