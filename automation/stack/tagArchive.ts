import { keepIntervals, keptToIntervals } from "../metrics/kept";
import { ArchivedRelease, ReleaseArchive } from "../release/ports";
import { StackPort } from "./port";
import {
  encodeValue,
  readSlotValue,
  slotChunks,
  slotTag,
  slotWrites,
  Tags,
  TAG_VALUE_MAX,
} from "./releaseTags";

/**
 * Finished releases kept for their reports, in the stack's tags beside the release's record and
 * with its codec (releaseTags.ts: compressed, checksummed chunks, the header written last), under
 * their own prefix. Each release is one entry in a ring of ARCHIVE_KEEP + 1 slots: a write fills
 * a slot that holds none of the entries kept after it, so a write cut short loses nothing of the
 * last ARCHIVE_KEEP, and a finished release costs the tags of its own entry only.
 */
export const ARCHIVE_TAG = "ecs-canary.archive";
/** Finished releases kept (the newest). */
export const ARCHIVE_KEEP = 5;
/** Slots of the ring: one more than kept, the one a write may spoil. */
export const ARCHIVE_SLOTS = ARCHIVE_KEEP + 1;
/**
 * Tags one entry may take (3 KB of compressed data): its intervals are merged, then its oldest
 * decisions dropped, until it fits. So the archive never holds more than ARCHIVE_SLOTS *
 * ARCHIVE_ENTRY_CHUNKS tags (18 KB).
 */
export const ARCHIVE_ENTRY_CHUNKS = 12;

const slotName = (n: number) => String(n);

function isArchived(value: unknown): value is ArchivedRelease {
  const entry = value as ArchivedRelease | null;
  return typeof entry?.release?.id === "string" && Array.isArray(entry.release.steps);
}

interface Held {
  slot: number;
  generation: number;
  entry: ArchivedRelease;
}

/** The entries the ring's slots hold that check out, oldest first. */
function heldEntries(tags: Tags): Held[] {
  const held: Held[] = [];
  for (let slot = 0; slot < ARCHIVE_SLOTS; slot++) {
    const read = readSlotValue(tags, ARCHIVE_TAG, slotName(slot), ARCHIVE_ENTRY_CHUNKS, isArchived);
    if (read) held.push({ slot, generation: read.generation, entry: read.value });
  }
  return held.sort((a, b) => a.generation - b.generation);
}

/** The kept entries: the newest of each release, the last ARCHIVE_KEEP releases, oldest first. */
function keptEntries(held: Held[]): Held[] {
  const newest = new Map<string, Held>();
  for (const h of held) {
    newest.delete(h.entry.release.id);
    newest.set(h.entry.release.id, h);
  }
  return [...newest.values()].slice(-ARCHIVE_KEEP);
}

/** The releases archived in these tags, oldest first. */
export function archivedIn(tags: Tags): ArchivedRelease[] {
  return keptEntries(heldEntries(tags)).map((h) => h.entry);
}

/** One merge step: the intervals merged two at a time (counts add up, p99 the larger). */
function halveIntervals(entry: ArchivedRelease): ArchivedRelease | undefined {
  const m = entry.metrics;
  if (m === undefined || m.stable.requests.length <= 1) return undefined;
  const count = m.stable.requests.length;
  const metrics = keepIntervals(
    keptToIntervals(m),
    { from: m.from, until: m.until, intervalMs: m.intervalMs },
    Math.ceil(count / 2),
  );
  return { ...entry, metrics };
}

/**
 * The chunks of an entry as `generation`, made to fit ARCHIVE_ENTRY_CHUNKS: intervals merged
 * while more than 30 remain, then the oldest decisions dropped, then the intervals merged further.
 */
export function entryChunks(
  entry: ArchivedRelease,
  generation: number,
  tagValueMax = TAG_VALUE_MAX,
): { chunks: string[]; entry: ArchivedRelease } {
  let e = entry;
  for (;;) {
    const chunks = slotChunks(encodeValue(e), generation, ARCHIVE_ENTRY_CHUNKS, tagValueMax);
    if (chunks !== undefined) return { chunks, entry: e };
    const intervals = e.metrics?.stable.requests.length ?? 0;
    const next =
      (intervals > 30 ? halveIntervals(e) : undefined) ??
      (e.release.decisions.length > 0
        ? { ...e, release: { ...e.release, decisions: e.release.decisions.slice(1) } }
        : halveIntervals(e));
    if (next === undefined) {
      throw new Error(
        `release ${entry.release.id} does not fit in ${ARCHIVE_ENTRY_CHUNKS} stack tags of ${TAG_VALUE_MAX} characters`,
      );
    }
    e = next;
  }
}

/** The archive of finished releases over a stack's tags. */
export class TagArchive implements ReleaseArchive {
  constructor(
    private readonly stack: Pick<StackPort, "listTags" | "setTag" | "removeTag" | "tagValueMax">,
  ) {}

  async archived(): Promise<ArchivedRelease[]> {
    return archivedIn(await this.stack.listTags());
  }

  async archive(entry: ArchivedRelease): Promise<void> {
    const tags = await this.stack.listTags();
    const held = heldEntries(tags);
    const keep = new Set(
      keptEntries(held)
        .filter((h) => h.entry.release.id !== entry.release.id)
        .slice(-(ARCHIVE_KEEP - 1))
        .map((h) => h.slot),
    );
    // A slot holding nothing kept: an empty or spoilt one first, else the oldest entry's.
    const taken = new Map(held.map((h) => [h.slot, h.generation]));
    const free = [...Array(ARCHIVE_SLOTS).keys()]
      .filter((slot) => !keep.has(slot))
      .sort((a, b) => (taken.get(a) ?? -1) - (taken.get(b) ?? -1));
    const slot = free[0];
    const generation = Math.max(0, ...held.map((h) => h.generation)) + 1;
    const { chunks } = entryChunks(entry, generation, this.stack.tagValueMax);
    for (const [name, value] of slotWrites(ARCHIVE_TAG, slotName(slot), chunks)) {
      await this.stack.setTag(name, value);
    }
    // Chunks of the entry this one replaced, beyond its own count: no longer read.
    for (let i = chunks.length; i < ARCHIVE_ENTRY_CHUNKS; i++) {
      const name = slotTag(ARCHIVE_TAG, slotName(slot), i);
      if (tags[name] !== undefined) await this.stack.removeTag(name);
    }
  }
}
