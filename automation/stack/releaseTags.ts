import { createHash } from "crypto";
import { brotliCompressSync, brotliDecompressSync } from "zlib";
import { ReleaseState } from "../release/state";

/**
 * A release's record as stack tags. A tag value holds at most 256 characters on Pulumi Cloud
 * (pkg/util/validation/stack.go, ValidateStackTags; self-managed backends keep tags in a file
 * beside the checkpoint since Pulumi 3.211, `<stack>.pulumi-tags`), so the record is compressed
 * (brotli), written as base64url and cut into chunks. Two slots, a and b, take turns: a write
 * fills the slot that does not hold the current record, chunk 1.. first and chunk 0 last. Chunk
 * 0 carries the generation, the chunk count and a checksum, so a write cut short (a killed
 * driver) leaves a slot that does not check out, and the reader keeps the other, older one.
 * Finished releases are kept with the same codec under their own prefix (tagArchive.ts).
 */
export const RELEASE_TAG = "ecs-canary.release";
/** Largest tag value Pulumi Cloud accepts. */
export const TAG_VALUE_MAX = 256;
/**
 * Largest tag value written to a self-managed backend (file, S3, GCS, Azure Blob, PostgreSQL):
 * those keep a stack's tags in one JSON file beside the checkpoint and apply no 256-character
 * limit (a 4,000-character value set with `pulumi stack tag set` on Pulumi 3.274 reads back
 * whole). A record then takes one tag per write instead of up to 8: one CLI run, not 8.
 */
export const SELF_MANAGED_TAG_VALUE_MAX = 4096;

/**
 * The largest tag value for a backend URL: self-managed backends (the schemes Pulumi's DIY
 * backend opens: file, s3, gs, azblob, postgres) take SELF_MANAGED_TAG_VALUE_MAX; Pulumi Cloud,
 * or a backend this process cannot tell (no PULUMI_BACKEND_URL: the CLI's login), TAG_VALUE_MAX.
 */
export function tagValueMaxFor(backendUrl: string | undefined): number {
  return /^(file|s3|gs|azblob|postgres):\/\//.test(backendUrl ?? "")
    ? SELF_MANAGED_TAG_VALUE_MAX
    : TAG_VALUE_MAX;
}
/** At most this many chunks per slot: what is stored stays bounded (about 2 KB compressed). */
export const MAX_CHUNKS = 8;
/** Decisions kept in the stored record (the newest); older ones are dropped to fit. */
export const STORED_DECISIONS = 20;

export type Slot = "a" | "b";
export type Tags = Record<string, string>;

/** Name of chunk `index` of `slot` under a tag prefix. */
export const slotTag = (prefix: string, slot: string, index: number) =>
  `${prefix}.${slot}.${index}`;

export const chunkTag = (slot: Slot, index: number) => slotTag(RELEASE_TAG, slot, index);

/** What a slot holds once checked. */
export interface StoredRecord {
  slot: Slot;
  generation: number;
  state: ReleaseState;
}

function checksum(data: string): string {
  return createHash("sha256").update(data).digest("base64url").slice(0, 10);
}

function header(generation: number, count: number, data: string): string {
  return `${generation}.${count}.${checksum(data)}:`;
}

/** A value as slot data: compressed JSON (brotli), base64url. */
export function encodeValue(value: unknown): string {
  return brotliCompressSync(Buffer.from(JSON.stringify(value))).toString("base64url");
}

/**
 * The chunk values of one slot holding `data` (from encodeValue) as `generation`; undefined if
 * it does not fit in `maxChunks` tags.
 */
export function slotChunks(
  data: string,
  generation: number,
  maxChunks: number,
  tagValueMax = TAG_VALUE_MAX,
): string[] | undefined {
  // The bound is the same on every backend: what fits in maxChunks tags of Pulumi Cloud's size.
  if (chunksOf(data, generation, maxChunks, TAG_VALUE_MAX) === undefined) return undefined;
  return chunksOf(data, generation, Number.MAX_SAFE_INTEGER, tagValueMax);
}

function chunksOf(
  data: string,
  generation: number,
  maxChunks: number,
  width: number,
): string[] | undefined {
  // Chunk 0 starts with a header whose length depends on the count: try counts until one fits.
  for (let count = 1; count <= maxChunks; count++) {
    const head = header(generation, count, data);
    const capacity = width - head.length + (count - 1) * width;
    if (data.length > capacity) continue;
    const first = width - head.length;
    const chunks = [head + data.slice(0, first)];
    for (let at = first; at < data.length; at += width) {
      chunks.push(data.slice(at, at + width));
    }
    while (chunks.length < count) chunks.push("");
    return chunks;
  }
  return undefined;
}

/** The tag writes of a slot's chunks, in order: chunk 0 (the header) last, as the commit. */
export function slotWrites(prefix: string, slot: string, chunks: string[]): [string, string][] {
  const writes = chunks.map((value, i) => [slotTag(prefix, slot, i), value] as [string, string]);
  // Until chunk 0 is written the slot does not check out.
  return [...writes.slice(1), writes[0]];
}

/**
 * The value a slot holds with its generation and chunk count, if it checks out (a write cut
 * short does not); `valid` checks the decoded value's shape.
 */
export function readSlotValue<T>(
  tags: Tags,
  prefix: string,
  slot: string,
  maxChunks: number,
  valid: (value: unknown) => value is T,
): { generation: number; count: number; value: T } | undefined {
  const first = tags[slotTag(prefix, slot, 0)];
  const m = first === undefined ? null : /^(\d+)\.(\d+)\.([\w-]{10}):/.exec(first);
  if (m === null) return undefined;
  const [head, generation, count, sum] = [m[0], Number(m[1]), Number(m[2]), m[3]];
  if (count < 1 || count > maxChunks) return undefined;
  let data = first.slice(head.length);
  for (let i = 1; i < count; i++) {
    const chunk = tags[slotTag(prefix, slot, i)];
    if (chunk === undefined) return undefined;
    data += chunk;
  }
  if (checksum(data) !== sum) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(brotliDecompressSync(Buffer.from(data, "base64url")).toString("utf8"));
  } catch {
    return undefined;
  }
  return valid(value) ? { generation, count, value } : undefined;
}

/**
 * The tags to write (in this order: the last one commits) for `state` as the next generation
 * after `current`. Keeps the newest STORED_DECISIONS decisions, and drops older ones still if
 * the record would not fit in MAX_CHUNKS tags.
 */
export function encodeRelease(
  state: ReleaseState,
  current: StoredRecord | undefined,
  tagValueMax = TAG_VALUE_MAX,
): { slot: Slot; generation: number; writes: [string, string][] } {
  const slot: Slot = current?.slot === "a" ? "b" : "a";
  const generation = (current?.generation ?? 0) + 1;
  let decisions = state.decisions.slice(-STORED_DECISIONS);
  for (;;) {
    const chunks = slotChunks(
      encodeValue({ ...state, decisions }),
      generation,
      MAX_CHUNKS,
      tagValueMax,
    );
    if (chunks !== undefined)
      return { slot, generation, writes: slotWrites(RELEASE_TAG, slot, chunks) };
    if (decisions.length === 0) {
      throw new Error(
        `the release's record does not fit in ${MAX_CHUNKS} stack tags of ${TAG_VALUE_MAX} characters`,
      );
    }
    decisions = decisions.slice(1);
  }
}

function isRelease(value: unknown): value is ReleaseState {
  const state = value as ReleaseState | null;
  return typeof state?.version === "string" && Array.isArray(state.steps);
}

/** The record one slot holds, if it checks out (a write cut short does not). */
function readSlot(tags: Tags, slot: Slot): StoredRecord | undefined {
  const read = readSlotValue(tags, RELEASE_TAG, slot, MAX_CHUNKS, isRelease);
  return read && { slot, generation: read.generation, state: read.value };
}

/** The newest record the tags hold (undefined when none: no release, or none written yet). */
export function decodeRelease(tags: Tags): StoredRecord | undefined {
  const found = (["a", "b"] as Slot[])
    .map((slot) => readSlot(tags, slot))
    .filter((r): r is StoredRecord => r !== undefined);
  return found.sort((x, y) => y.generation - x.generation)[0];
}

/** The release recorded in these tags, if any. */
export function releaseOf(tags: Tags): ReleaseState | undefined {
  return decodeRelease(tags)?.state;
}
