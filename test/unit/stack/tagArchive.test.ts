import { expect } from "chai";
import { keepIntervals } from "../../../automation/metrics/kept";
import { Interval } from "../../../automation/metrics/interval";
import { ArchivedRelease } from "../../../automation/release/ports";
import { ReleaseState } from "../../../automation/release/state";
import { releaseOf } from "../../../automation/stack/releaseTags";
import {
  ARCHIVE_ENTRY_CHUNKS,
  ARCHIVE_KEEP,
  ARCHIVE_SLOTS,
  archivedIn,
  TagArchive,
} from "../../../automation/stack/tagArchive";
import { TagReleaseStore } from "../../../automation/stack/tagReleaseStore";
import { Crash, MemoryStack } from "../../support/memoryStack";

const release = (n: number, overrides: Partial<ReleaseState> = {}): ReleaseState => ({
  id: `1.0.${n}@${n}`,
  version: `1.0.${n}`,
  previousVersion: `1.0.${n - 1}`,
  stableColor: "blue",
  canaryColor: "green",
  steps: [{ weight: 10, bakeMs: 60_000 }],
  gates: { manual: false, maxInconclusiveMs: 0, intervalMs: 10_000 },
  stepIndex: 0,
  phase: "done",
  status: "promoted",
  stepStarts: [n * 1000],
  approvedSteps: [],
  scaleDownDelayMs: 0,
  startedAt: n * 1000,
  updatedAt: n * 1000 + 500,
  decisions: [],
  ...overrides,
});

/** Noisy intervals, as a real source gives (they compress poorly, like real ones). */
function intervals(count: number, seed = 7): Interval[] {
  let x = seed;
  const next = () => (x = (x * 48271) % 2147483647) / 2147483647;
  return Array.from({ length: count }, (_, n) => ({
    start: n * 10_000,
    stable: {
      requests: 400 + Math.floor(next() * 200),
      errors: Math.floor(next() * 3),
      p99Ms: 10 + next() * 90,
    },
    canary: {
      requests: 40 + Math.floor(next() * 30),
      errors: Math.floor(next() * 5),
      p99Ms: 10 + next() * 200,
    },
    balancerErrors: Math.floor(next() * 2),
  }));
}

const entryOf = (n: number, count = 0): ArchivedRelease => ({
  release: release(n),
  ...(count > 0 && {
    metrics: keepIntervals(
      intervals(count, n),
      { from: 0, until: count * 10_000, intervalMs: 10_000 },
      count,
    ),
  }),
});

const ids = (entries: ArchivedRelease[]) => entries.map((e) => e.release.id);

describe("release archive in stack tags", () => {
  it(`keeps the last ${ARCHIVE_KEEP} releases, oldest first, one entry per release`, async () => {
    const stack = new MemoryStack("dev", {});
    const archive = new TagArchive(stack);
    expect(await archive.archived()).to.deep.equal([]);
    for (let n = 1; n <= ARCHIVE_KEEP + 3; n++) await archive.archive(entryOf(n, 20));
    expect(ids(await archive.archived())).to.deep.equal([
      "1.0.4@4",
      "1.0.5@5",
      "1.0.6@6",
      "1.0.7@7",
      "1.0.8@8",
    ]);
    // Kept again (with other metrics): replaces its entry, drops none of the others.
    const again = entryOf(6, 30);
    await archive.archive(again);
    const kept = await archive.archived();
    expect(ids(kept)).to.deep.equal(["1.0.4@4", "1.0.5@5", "1.0.7@7", "1.0.8@8", "1.0.6@6"]);
    expect(kept.at(-1)).to.deep.equal(again);
    // Read from another machine: only the backend's tags.
    expect(archivedIn({ ...stack.tags })).to.deep.equal(kept);
  });

  it("a write cut short (the driver killed mid-write) loses none of the kept releases", async () => {
    const stack = new MemoryStack("dev", {});
    const archive = new TagArchive(stack);
    for (let n = 1; n <= ARCHIVE_KEEP + 1; n++) await archive.archive(entryOf(n, 120));
    const before = await archive.archived();
    // Die at every point of the next write: the tags left always read as before.
    for (let at = 2; ; at++) {
      const copy = new MemoryStack("dev", {});
      copy.tags = { ...stack.tags };
      copy.crashAt = at;
      let died = false;
      try {
        await new TagArchive(copy).archive(entryOf(9, 120));
      } catch (err) {
        expect(err).to.be.instanceOf(Crash);
        died = true;
      }
      if (!died) break;
      expect(archivedIn(copy.tags), `died at operation ${at}`).to.deep.equal(before);
      // The next write, after the crash, keeps the release and the last others.
      copy.crashAt = undefined;
      await new TagArchive(copy).archive(entryOf(9, 120));
      expect(ids(archivedIn(copy.tags))).to.deep.equal([...ids(before).slice(1), "1.0.9@9"]);
    }
  });

  it("stays within its bound: each entry merged down to its tags, every value a valid tag value", async function () {
    this.timeout(30_000); // brotli at its best quality, a few times per entry
    const stack = new MemoryStack("dev", {});
    const archive = new TagArchive(stack);
    const decisions = Array.from({ length: 20 }, (_, n) => ({
      at: n,
      step: 0,
      weight: 10,
      gate: "metrics",
      verdict: "pass" as const,
      reason: `canary 5xx ${n}/1000 vs stable ${n}/10000, p ${Math.random()}`,
    }));
    for (let n = 1; n <= ARCHIVE_KEEP + 2; n++) {
      await archive.archive({ ...entryOf(n, 720), release: release(n, { decisions }) });
    }
    const names = Object.keys(stack.tags);
    expect(names.length).to.be.at.most(ARCHIVE_SLOTS * ARCHIVE_ENTRY_CHUNKS);
    for (const name of names) {
      expect(name.length, name).to.be.at.most(40);
      expect(stack.tags[name].length, name).to.be.at.most(256);
    }
    const kept = await archive.archived();
    expect(kept).to.have.length(ARCHIVE_KEEP);
    for (const e of kept) {
      const m = e.metrics!;
      // Merged, not cut: the whole window is there, with every request counted.
      expect(m.stable.requests.length).to.be.lessThan(720);
      expect(m.from).to.equal(0);
      expect(m.until).to.equal(720 * 10_000);
      const n = Number(e.release.version.split(".")[2]);
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      expect(sum(m.canary.requests)).to.equal(sum(intervals(720, n).map((i) => i.canary.requests)));
    }
  });

  it("is apart from the release's record: neither write spoils the other", async () => {
    const stack = new MemoryStack("dev", {});
    const store = new TagReleaseStore(stack);
    await store.write(release(3, { phase: "shifting", status: "running" }));
    await new TagArchive(stack).archive(entryOf(2, 60));
    expect(releaseOf(stack.tags)).to.include({ id: "1.0.3@3", phase: "shifting" });
    expect(ids(archivedIn(stack.tags))).to.deep.equal(["1.0.2@2"]);
  });
});
