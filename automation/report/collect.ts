/**
 * What a report is made of, read from where it lives: the release's record (the release store,
 * or the archive of finished releases) and its intervals (kept with the archived release, and
 * the rest read again from the stack's metrics source). Also keeps a finished release with its
 * intervals, so that its report can be made later, elsewhere, after the source dropped them.
 */
import { StackOutputs } from "../../infra/contract/outputs";
import { Interval } from "../metrics/interval";
import { keepIntervals, keptToIntervals, KeptIntervals } from "../metrics/kept";
import { MetricsReader } from "../metrics/reader";
import { metricsReaderFor } from "../metrics/registry";
import { errorLine, UsageError } from "../release/errors";
import { ArchivedRelease, ReleaseArchive, ReleaseStore } from "../release/ports";
import { ReleaseState } from "../release/state";
import { assembleReport, ReportData, reportWindow } from "./assemble";

export interface ReportSources {
  stack: string;
  releases: ReleaseStore;
  archive: ReleaseArchive;
  /** The stack's outputs now (undefined: not deployed, or destroyed). */
  outputs(): Promise<StackOutputs | undefined>;
  /** The reader of a metrics output (default: the metrics registry's). */
  reader?: (outputs: StackOutputs) => MetricsReader;
  now(): number;
  /** Waits (for the release's last interval to end before it is kept); default: no wait. */
  sleep?(ms: number): Promise<void>;
}

/**
 * The longest a finished release's keeping waits for its last interval to end and settle, so
 * that the kept intervals cover the whole release (the local stack's 10-second intervals); a
 * longer one (CloudWatch's: a minute, settled 3 minutes later) is read again at report time.
 */
export const MAX_KEEP_WAIT_MS = 15_000;

/** A release whose record no longer changes: its report can be kept. */
export function isFinished(release: ReleaseState): boolean {
  return release.phase === "done" || release.status === "failed";
}

/** The release a report is asked for: by id, or the stack's current (last) one. */
export async function findRelease(sources: ReportSources, id?: string): Promise<ArchivedRelease> {
  const current = await sources.releases.read();
  const archived = await sources.archive.archived();
  const kept = (rid: string) => archived.find((e) => e.release.id === rid);
  if (id === undefined) {
    if (current !== undefined) {
      // The archive's copy is the same release, with its intervals.
      const entry = kept(current.id);
      return entry && !isNewer(current, entry.release) ? entry : { release: current };
    }
    const last = archived.at(-1);
    if (last) return last;
    throw new UsageError(`no release is recorded on stack ${sources.stack}; nothing to report`);
  }
  if (current?.id === id) {
    const entry = kept(id);
    return entry && !isNewer(current, entry.release) ? entry : { release: current };
  }
  const entry = kept(id);
  if (entry) return entry;
  const known = [
    ...new Set([...archived.map((e) => e.release.id), ...(current ? [current.id] : [])]),
  ];
  throw new UsageError(
    `invalid --release "${id}": stack ${sources.stack} keeps ${known.length > 0 ? `these releases: ${known.join(", ")}` : "no release"}` +
      ` (the current one and the last finished ones)`,
  );
}

function isNewer(a: ReleaseState, b: ReleaseState): boolean {
  return a.updatedAt > b.updatedAt;
}

function readerOf(sources: ReportSources, outputs: StackOutputs): MetricsReader {
  return (sources.reader ?? ((o) => metricsReaderFor(o.metricsSource)))(outputs);
}

/**
 * Reads the source's intervals of [from, to), the unsettled ones left out; `notes` says what
 * could not be read.
 */
async function readSource(
  reader: MetricsReader,
  release: ReleaseState,
  from: number,
  to: number,
  now: number,
): Promise<{ intervals: Interval[]; until: number; note?: string }> {
  const settledTo = Math.floor((now - reader.settleMs) / reader.intervalMs) * reader.intervalMs;
  const until = Math.min(to, settledTo);
  if (until <= from) return { intervals: [], until: from };
  try {
    const intervals = await reader.intervals({
      from,
      to: until,
      stableColor: release.stableColor,
      canaryColor: release.canaryColor,
    });
    return { intervals, until };
  } catch (err) {
    return {
      intervals: [],
      until: from,
      note: `could not read ${reader.description}: ${errorLine((err as Error).message)}`,
    };
  }
}

/** The report of a release: its record, the intervals kept with it, the rest from the source. */
export async function collectReport(sources: ReportSources, id?: string): Promise<ReportData> {
  const { release, metrics: kept } = await findRelease(sources, id);
  const now = sources.now();
  const notes: string[] = [];
  const outputs = await sources.outputs();
  const reader = outputs ? readerOf(sources, outputs) : undefined;
  // Kept intervals merged for a long release, or no source now: the kept ones alone.
  const keptOnly = kept !== undefined && (!reader || kept.intervalMs !== reader.intervalMs);
  const intervalMs = keptOnly ? kept.intervalMs : reader?.intervalMs;
  if (intervalMs === undefined) {
    throw new UsageError(
      `stack ${sources.stack} has no outputs to read metrics from, and release ${release.id} kept none`,
    );
  }
  const window = reportWindow(release, intervalMs, now);
  const intervals = kept ? keptToIntervals(kept) : [];
  let source = kept ? "intervals kept with the release" : (reader?.description ?? "");
  if (!reader) {
    notes.push(
      `stack ${sources.stack} has no outputs now: only the intervals kept with the release are shown`,
    );
  } else if (keptOnly) {
    notes.push(
      `the release was long: its intervals were kept merged ${kept.intervalMs / reader.intervalMs} at a time; a merged interval's p99 is the largest of its parts`,
    );
  } else {
    const readFrom = Math.max(window.from, kept?.until ?? window.from);
    if (readFrom < window.to) {
      const read = await readSource(reader, release, readFrom, window.to, now);
      intervals.push(...read.intervals.filter((i) => i.start >= readFrom));
      source = kept ? `${source}, then ${reader.description}` : reader.description;
      if (read.note) notes.push(read.note);
      else if (read.until < window.to) {
        notes.push(
          `intervals from ${new Date(read.until).toISOString()} on are not settled yet (${reader.description})`,
        );
      }
    }
  }
  return assembleReport({
    stack: sources.stack,
    release,
    intervals,
    intervalMs,
    source,
    notes,
    now,
  });
}

/**
 * Keeps a finished release with its settled intervals in the archive. Returns what was kept,
 * or undefined for a release that still runs.
 */
export async function keepForReport(
  sources: ReportSources,
  finished: ReleaseState,
): Promise<ArchivedRelease | undefined> {
  // As recorded: a command's own copy of the state is not stamped with the time of its writes.
  const recorded = await sources.releases.read();
  const release = recorded?.id === finished.id ? recorded : finished;
  if (!isFinished(release)) return undefined;
  const outputs = await sources.outputs();
  let metrics: KeptIntervals | undefined;
  if (outputs) {
    const reader = readerOf(sources, outputs);
    const I = reader.intervalMs;
    const lastSettles = Math.ceil(release.updatedAt / I) * I + reader.settleMs;
    const wait = lastSettles - sources.now();
    if (wait > 0 && wait <= MAX_KEEP_WAIT_MS && sources.sleep) await sources.sleep(wait + 50);
    const now = sources.now();
    const window = reportWindow(release, I, now);
    const read = await readSource(reader, release, window.from, window.to, now);
    if (read.note) throw new Error(read.note);
    metrics = keepIntervals(read.intervals, {
      from: window.from,
      until: read.until,
      intervalMs: I,
    });
  }
  const entry: ArchivedRelease = { release, ...(metrics && { metrics }) };
  await sources.archive.archive(entry);
  return entry;
}
