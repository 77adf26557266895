import { expect } from "chai";
import { ReleaseState } from "../../../automation/release/state";
import {
  chunkTag,
  decodeRelease,
  encodeRelease,
  MAX_CHUNKS,
  releaseOf,
  SELF_MANAGED_TAG_VALUE_MAX,
  STORED_DECISIONS,
  TAG_VALUE_MAX,
  tagValueMaxFor,
  Tags,
} from "../../../automation/stack/releaseTags";

const release = (overrides: Partial<ReleaseState> = {}): ReleaseState => ({
  id: "1.0.2@1",
  version: "1.0.2",
  previousVersion: "1.0.1",
  stableColor: "blue",
  canaryColor: "green",
  steps: [
    { weight: 10, bakeMs: 60_000 },
    { weight: 50, bakeMs: 60_000 },
    { weight: 100, bakeMs: 60_000 },
  ],
  gates: {
    manual: true,
    maxInconclusiveMs: 600_000,
    intervalMs: 15_000,
    metrics: { mode: "judge" },
  },
  stepIndex: 1,
  phase: "gating",
  status: "running",
  stepStarts: [1000, 2000],
  approvedSteps: [0],
  scaleDownDelayMs: 60_000,
  startedAt: 1,
  updatedAt: 2,
  decisions: [],
  ...overrides,
});

/** A decision with a reason as long as the judge's (numbers, not repetitive). */
const decision = (i: number) => ({
  at: 1_700_000_000_000 + i * 15_013,
  step: 2,
  weight: 50,
  gate: "metrics",
  verdict: "inconclusive" as const,
  reason: `canary ${i * 7} requests (${(i * 0.37).toFixed(3)} errors/s), stable ${i * 31} requests; p99 ${(i * 13) % 997} ms vs ${(i * 17) % 991} ms; evidence ${(i / 3).toFixed(4)}`,
});

function write(tags: Tags, state: ReleaseState, upTo = Infinity): Tags {
  const { writes } = encodeRelease(state, decodeRelease(tags));
  const next = { ...tags };
  writes.slice(0, upTo).forEach(([name, value]) => (next[name] = value));
  return next;
}

describe("the release's record in stack tags", () => {
  it("reads back what was written, in tags of at most 256 characters", () => {
    const state = release({ decisions: [decision(1), decision(2)] });
    const tags = write({}, state);
    expect(releaseOf(tags)).to.deep.equal(state);
    for (const [name, value] of Object.entries(tags)) {
      expect(value.length, name).to.be.at.most(TAG_VALUE_MAX);
      expect(name).to.match(/^[a-zA-Z0-9-_.:]{1,40}$/);
    }
  });

  it("no tags, or tags of something else: no release", () => {
    expect(releaseOf({})).to.equal(undefined);
    expect(releaseOf({ [chunkTag("a", 0)]: "hello", other: "x" })).to.equal(undefined);
  });

  it("a write cut short at any tag leaves the previous record readable", () => {
    const first = release({ phase: "shifting" });
    const before = write({}, first);
    const second = release({ phase: "gating", decisions: [1, 2, 3, 4, 5].map(decision) });
    const { writes } = encodeRelease(second, decodeRelease(before));
    expect(writes.length).to.be.greaterThan(1);
    for (let cut = 0; cut < writes.length; cut++) {
      expect(releaseOf(write(before, second, cut)), `cut after ${cut} tags`).to.deep.equal(first);
    }
    expect(releaseOf(write(before, second))).to.deep.equal(second);
  });

  it("slots take turns, so the next write never overwrites the current record", () => {
    let tags: Tags = {};
    const slots: string[] = [];
    for (let i = 0; i < 4; i++) {
      tags = write(tags, release({ updatedAt: i }));
      slots.push(decodeRelease(tags)!.slot);
    }
    expect(slots).to.deep.equal(["a", "b", "a", "b"]);
    expect(decodeRelease(tags)!.generation).to.equal(4);
  });

  it("keeps the newest decisions only, so what is stored stays bounded", () => {
    const many = Array.from({ length: 200 }, (_, i) => decision(i));
    const tags = write({}, release({ decisions: many }));
    const stored = releaseOf(tags)!;
    expect(stored.decisions.length).to.be.at.most(STORED_DECISIONS);
    expect(stored.decisions.at(-1)).to.deep.equal(many.at(-1));
    expect(Object.keys(tags).length).to.be.at.most(MAX_CHUNKS);
  });

  it("on a self-managed backend a write is one tag, with the same bound as on Pulumi Cloud", () => {
    const full = release({ decisions: Array.from({ length: 200 }, (_, i) => decision(i)) });
    const cloud = encodeRelease(full, undefined);
    const selfManaged = encodeRelease(full, undefined, SELF_MANAGED_TAG_VALUE_MAX);
    expect(cloud.writes.length).to.be.greaterThan(1);
    expect(selfManaged.writes.length).to.equal(1);
    const tags = Object.fromEntries(selfManaged.writes);
    expect(releaseOf(tags)).to.deep.equal(releaseOf(Object.fromEntries(cloud.writes)));
    // The next write takes the other slot, still in one tag, and reads back.
    const next = release({ decisions: [decision(1)] });
    const second = encodeRelease(next, decodeRelease(tags), SELF_MANAGED_TAG_VALUE_MAX);
    expect(second.writes.length).to.equal(1);
    expect(releaseOf({ ...tags, ...Object.fromEntries(second.writes) })).to.deep.equal(next);
  });

  it("takes the larger tags only for backend URLs of self-managed backends", () => {
    for (const url of [
      "file:///work/.pulumi-state/backend",
      "s3://bucket?region=us-east-1",
      "gs://bucket",
      "azblob://container",
      "postgres://user@host/db",
    ]) {
      expect(tagValueMaxFor(url), url).to.equal(SELF_MANAGED_TAG_VALUE_MAX);
    }
    for (const url of [undefined, "", "https://api.pulumi.com", "https://pulumi.example.com"]) {
      expect(tagValueMaxFor(url), String(url)).to.equal(TAG_VALUE_MAX);
    }
  });

  it("a corrupted chunk makes its slot unreadable, never a wrong record", () => {
    const tags = write(write({}, release({ updatedAt: 1 })), release({ updatedAt: 2 }));
    const name = chunkTag("b", 0);
    const bad = {
      ...tags,
      [name]: tags[name].slice(0, -1) + (tags[name].endsWith("A") ? "B" : "A"),
    };
    expect(releaseOf(bad)!.updatedAt).to.equal(1);
  });
});
