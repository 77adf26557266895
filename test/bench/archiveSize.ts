/**
 * What one finished release takes in the stack's tags (tagArchive.ts), by its number of
 * intervals: noisy counts and p99s like a real source's (they compress worse than a quiet
 * stack's), 3 steps, 20 decisions of a judge's length. Run: `npx tsc -p tsconfig.json && node
 * build/test/bench/archiveSize.js`.
 */
import { Interval } from "../../automation/metrics/interval";
import { keepIntervals } from "../../automation/metrics/kept";
import { ReleaseState } from "../../automation/release/state";
import {
  ARCHIVE_ENTRY_CHUNKS,
  ARCHIVE_SLOTS,
  entryChunks,
} from "../../automation/stack/tagArchive";

let seed = 7;
const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;

function intervals(count: number): Interval[] {
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

const release: ReleaseState = {
  id: "1.0.2@1795000000000",
  version: "1.0.2",
  previousVersion: "1.0.1",
  stableColor: "blue",
  canaryColor: "green",
  steps: [10, 50, 100].map((weight) => ({ weight, bakeMs: 60_000 })),
  gates: { manual: false, maxInconclusiveMs: 0, intervalMs: 10_000 },
  stepIndex: 2,
  phase: "done",
  status: "promoted",
  stepStarts: [1, 2, 3],
  approvedSteps: [],
  scaleDownDelayMs: 0,
  startedAt: 1795000000000,
  updatedAt: 1795000600000,
  decisions: Array.from({ length: 20 }, (_, n) => ({
    at: 1795000000000 + n * 10_000,
    step: n % 3,
    weight: 10,
    gate: "metrics",
    verdict: "pass" as const,
    reason:
      "canary 5xx 0/412 vs stable 1/3790: no evidence of a worse error rate (e-value 0.41 < 20)",
  })),
};

for (const count of [10, 40, 120, 720]) {
  const window = { from: 0, until: count * 10_000, intervalMs: 10_000 };
  const metrics = keepIntervals(intervals(count), window, count);
  const { chunks, entry } = entryChunks({ release, metrics }, 1);
  console.log(
    `${count} intervals: ${JSON.stringify({ release, metrics }).length} bytes of JSON -> ` +
      `${chunks.join("").length} characters in ${chunks.length} tags (kept ${entry.metrics?.stable.requests.length} intervals)`,
  );
}
console.log(`bound: ${ARCHIVE_SLOTS} entries x ${ARCHIVE_ENTRY_CHUNKS} tags of 256 characters`);
