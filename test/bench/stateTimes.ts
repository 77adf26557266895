/**
 * `npm run bench:state`: how long the driver's state reads and writes take, on a throw-away
 * stack in a file backend and in an S3 backend (moto's server on loopback): recovering the
 * settings of the last update, reading and writing the release's record, the lease. Each
 * operation 5 times; prints the medians, and per CLI command the sum of the operations it makes.
 */
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { ReleaseState } from "../../automation/release/state";
import { PROJECT_ROOT } from "../../automation/stack/environment";
import { DEFAULT_LEASE_TIMING, LEASE_TAG, StackLease } from "../../automation/stack/lease";
import { PulumiStack } from "../../automation/stack/pulumiStack";
import { STORED_DECISIONS } from "../../automation/stack/releaseTags";
import { TagReleaseStore } from "../../automation/stack/tagReleaseStore";
import { MOTO_CREDENTIALS, startMotoServer } from "../support/motoServer";

const RUNS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Median ms of RUNS runs; a run that returns a number reports that instead of its own time. */
async function timed(run: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    const own = await run();
    samples.push(typeof own === "number" ? own : Number(process.hrtime.bigint() - started) / 1e6);
  }
  return median(samples);
}

/** A release as a running one looks: three steps, the judge's settings, full decisions. */
function release(i: number): ReleaseState {
  return {
    id: `1.0.2@${1_700_000_000_000 + i}`,
    version: "1.0.2",
    previousVersion: "1.0.1",
    stableColor: "blue",
    canaryColor: "green",
    steps: [10, 50, 100].map((weight) => ({ weight, bakeMs: 300_000 })),
    gates: {
      manual: true,
      maxInconclusiveMs: 600_000,
      intervalMs: 15_000,
      metrics: { mode: "judge", errorRatio: 1, latencyRatio: 1.5, minRequests: 200 },
    },
    stepIndex: 1,
    phase: "gating",
    status: "running",
    stepStartedAt: 1_700_000_100_000,
    stepStarts: [1_700_000_000_000, 1_700_000_100_000],
    approvedSteps: [0],
    scaleDownDelayMs: 60_000,
    startedAt: 1_700_000_000_000,
    updatedAt: 1_700_000_200_000 + i,
    decisions: Array.from({ length: STORED_DECISIONS }, (_, d) => ({
      at: 1_700_000_000_000 + d * 15_000,
      step: 2,
      weight: 50,
      gate: "metrics",
      verdict: "inconclusive" as const,
      reason: `canary ${d * 41 + 7} requests, 0 5xx; stable ${d * 367 + 11} requests; evidence ${(d / 7).toFixed(3)}; p99 ${120 + d} ms vs ${118 + d} ms`,
    })),
  };
}

function createBucket(endpoint: string, bucket: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${endpoint}/${bucket}`, { method: "PUT" }, (res) => {
      res.resume();
      res.on("end", () =>
        res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

async function measure(
  label: string,
  env: Record<string, string>,
): Promise<Record<string, number>> {
  Object.assign(process.env, env);
  const name = `bench-state-${process.pid}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ecs-canary-bench-state-"));
  fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  fs.writeFileSync(
    path.join(dir, `Pulumi.${name}.yaml`),
    "config:\n  ecs-canary:platform: local\n",
  );
  const stack = await PulumiStack.open(name, { workDir: dir });
  try {
    const store = new TagReleaseStore(stack);
    let i = 0;
    const ops = {
      // Opening the stack (selecting it) is not state I/O: timed apart from the recovery.
      "settings recovery (stack history)": await timed(async () => {
        const fresh = await PulumiStack.open(name, { workDir: dir });
        const started = process.hrtime.bigint();
        await fresh.getConfig();
        return Number(process.hrtime.bigint() - started) / 1e6;
      }),
      "record read (tag list)": await timed(() => store.read()),
      "record write (check + chunks)": await timed(() => store.write(release(i++))),
      "lease acquire (without the 2 s settle)": await timed(async () => {
        const lease = await StackLease.acquire(stack, "bench", {
          ...DEFAULT_LEASE_TIMING,
          settleMs: 0,
        });
        await lease.release();
      }),
      "lease heartbeat (tag list + set)": await timed(async () => {
        await stack.listTags();
        await stack.setTag(LEASE_TAG, "{}");
      }),
    };
    const chunks = Object.keys(await stack.listTags()).filter((t) =>
      t.startsWith("ecs-canary.release."),
    ).length;
    process.stdout.write(
      `\n${label} (${chunks} record tags in two slots; median of ${RUNS}, ms)\n`,
    );
    for (const [op, ms] of Object.entries(ops))
      process.stdout.write(`  ${op.padEnd(42)} ${ms.toFixed(0)}\n`);
    return ops;
  } finally {
    // The stack goes with its backend (a temporary folder, or moto's memory).
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function perCommand(ops: Record<string, number>): string[] {
  const [recovery, read, write, acquire] = Object.values(ops);
  const settle = DEFAULT_LEASE_TIMING.settleMs;
  // Operations per command, from the code: status reads settings and the record; abort reads
  // and writes the record twice (rolling back, rolled back); promote of a paused step takes the
  // lease, reads, writes the approval, then per step: a record write (its check and one tag)
  // before the update; a step that waits writes its start before its first wait and reads the
  // record at each later check (engine.ts, gating.ts).
  const lines: [string, number][] = [
    ["status", recovery + read],
    ["abort (of a paused release)", recovery + read + 2 * write + read],
    ["rollout / promote: start (lease, read)", recovery + acquire + settle + read],
    ["each step: its record before the update", write],
    ["a step that waits: its start, once", write],
    ["a step that waits: each later check", read],
  ];
  return lines.map(([c, ms]) => `  ${c.padEnd(42)} ${(ms / 1000).toFixed(1)} s`);
}

async function main() {
  const file = fs.mkdtempSync(path.join(os.tmpdir(), "ecs-canary-bench-backend-"));
  const fileOps = await measure("file backend", {
    PULUMI_BACKEND_URL: `file://${file}`,
    PULUMI_CONFIG_PASSPHRASE: "bench",
  });
  const moto = await startMotoServer();
  let s3Ops: Record<string, number>;
  try {
    await createBucket(moto.endpoint, "bench");
    s3Ops = await measure("S3 backend (moto on loopback)", {
      PULUMI_BACKEND_URL: `s3://bench?endpoint=${moto.endpoint}&s3ForcePathStyle=true&region=us-east-1`,
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      AWS_REGION: "us-east-1",
      PULUMI_CONFIG_PASSPHRASE: "bench",
    });
  } finally {
    await moto.stop();
    fs.rmSync(file, { recursive: true, force: true });
  }
  process.stdout.write(`\nstate reads and writes per command (file | S3)\n`);
  const f = perCommand(fileOps);
  const s = perCommand(s3Ops);
  f.forEach((line, i) =>
    process.stdout.write(`${line} | ${s[i].trim().split(" ").slice(-2).join(" ")}\n`),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:state: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
