/**
 * A compact, bounded copy of a release's intervals, kept with the release so that its report
 * can be drawn after the metrics source has dropped them (the local balancer keeps its last 60
 * intervals; CloudWatch keeps one-minute data 15 days). Columns instead of objects, p99 to a
 * tenth of a millisecond: 30 to 40 bytes an interval as JSON. Only what the report draws is
 * kept: requests, target 5xx and p99 per colour, the balancer's own 5xx.
 */
import { KeptColumns, KeptIntervals } from "../release/ports";
import { GroupSample, Interval } from "./interval";

export type { KeptIntervals };

/** At most this many intervals are kept; a longer window is kept at a coarser interval. */
export const MAX_KEPT_INTERVALS = 120;

function emptyColumns(): KeptColumns {
  return { requests: [], errors: [], p99Ms: [] };
}

function pushSample(columns: KeptColumns, sample: GroupSample): void {
  columns.requests.push(sample.requests);
  columns.errors.push(sample.errors ?? 0);
  // A tenth of a millisecond is all a chart shows; whole digits more would double the size.
  columns.p99Ms.push(sample.p99Ms === undefined ? null : Math.round(sample.p99Ms * 10) / 10);
}

/**
 * Merges consecutive intervals `factor` at a time: counts add up; the p99 of a merged interval
 * is the largest of its parts (an upper bound: the parts' samples are gone).
 */
function coarsen(intervals: Interval[], intervalMs: number, factor: number): Interval[] {
  const merged = new Map<number, Interval>();
  for (const i of intervals) {
    const start = Math.floor(i.start / (intervalMs * factor)) * intervalMs * factor;
    const into = merged.get(start);
    if (into === undefined) {
      merged.set(start, { ...i, start, stable: { ...i.stable }, canary: { ...i.canary } });
      continue;
    }
    for (const colour of ["stable", "canary"] as const) {
      const a = into[colour];
      const b = i[colour];
      a.requests += b.requests;
      a.errors = (a.errors ?? 0) + (b.errors ?? 0);
      const p99 = Math.max(a.p99Ms ?? -Infinity, b.p99Ms ?? -Infinity);
      if (Number.isFinite(p99)) a.p99Ms = p99;
    }
    into.balancerErrors = (into.balancerErrors ?? 0) + (i.balancerErrors ?? 0);
  }
  return [...merged.values()];
}

/**
 * The intervals of [from, until) in kept form, every interval start of the window present (an
 * interval the source did not list served nothing), at most `max` of them.
 */
export function keepIntervals(
  intervals: Interval[],
  window: { from: number; until: number; intervalMs: number },
  max = MAX_KEPT_INTERVALS,
): KeptIntervals {
  const { from, until } = window;
  let intervalMs = window.intervalMs;
  let first = Math.floor(from / intervalMs) * intervalMs;
  let inWindow = intervals.filter((i) => i.start >= first && i.start + intervalMs <= until);
  let count = Math.max(0, Math.floor((until - first) / intervalMs));
  if (count > max) {
    const factor = Math.ceil(count / max);
    inWindow = coarsen(inWindow, intervalMs, factor);
    intervalMs *= factor;
    first = Math.floor(from / intervalMs) * intervalMs;
    count = Math.max(0, Math.floor((until - first) / intervalMs));
  }
  const byStart = new Map(inWindow.map((i) => [i.start, i]));
  const kept: KeptIntervals = {
    intervalMs,
    from: first,
    until: first + count * intervalMs,
    stable: emptyColumns(),
    canary: emptyColumns(),
    balancerErrors: [],
  };
  for (let n = 0; n < count; n++) {
    const i = byStart.get(first + n * intervalMs);
    pushSample(kept.stable, i?.stable ?? { requests: 0 });
    pushSample(kept.canary, i?.canary ?? { requests: 0 });
    kept.balancerErrors.push(i?.balancerErrors ?? 0);
  }
  return kept;
}

function sampleAt(columns: KeptColumns, n: number): GroupSample {
  const sample: GroupSample = { requests: columns.requests[n], errors: columns.errors[n] };
  const p99 = columns.p99Ms[n];
  if (p99 !== null && p99 !== undefined) sample.p99Ms = p99;
  return sample;
}

/** The kept intervals back as intervals. */
export function keptToIntervals(kept: KeptIntervals): Interval[] {
  return kept.stable.requests.map((_, n) => ({
    start: kept.from + n * kept.intervalMs,
    stable: sampleAt(kept.stable, n),
    canary: sampleAt(kept.canary, n),
    balancerErrors: kept.balancerErrors[n],
  }));
}
