/**
 * `npm run bench:step`: the driver's time per rollout step against a bare
 * `pulumi up` that sets the same weight, on the same throw-away local stack in
 * the same run, and where a bare update's time goes (from the CLI's own log).
 * Prints medians, every sample, and the ratio of a step to a bare update.
 */
import { spawn } from "child_process";
import * as path from "path";
import { PROJECT_ROOT, PULUMI_TOOLS, pulumiEnvironment } from "../../automation/stack/environment";
import { DriverStack } from "../integration/driver/driverHarness";
import { updatePhases } from "./updatePhases";

const WEIGHTS = [10, 20, 30, 40, 50, 60, 70];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

interface BareUp {
  ms: number;
  /** The CLI's log, when asked for (-v=7 --logtostderr). */
  log: string;
  startedAt: number;
  endedAt: number;
}

/** `pulumi up` of one weight, as `npm run pulumi -- up` runs it: the environment the driver uses. */
function bareUp(
  stack: DriverStack,
  weight: number,
  withLog = false,
  settings: Record<string, string> = {},
): Promise<BareUp> {
  const args = ["up", "--yes", "--skip-preview", "--stack", stack.name];
  for (const [key, value] of Object.entries({ ...settings, canaryWeight: String(weight) })) {
    args.push("-c", `ecs-canary:${key}=${value}`);
  }
  if (withLog) args.push("-v=7", "--logtostderr");
  const base = { ...process.env, ...stack.env };
  const startedAt = Date.now();
  const child = spawn(path.join(PULUMI_TOOLS, "bin", "pulumi"), args, {
    cwd: PROJECT_ROOT,
    env: { ...base, ...pulumiEnvironment(stack.name, base) },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr?.setEncoding("utf8").on("data", (text: string) => (log += text));
  return new Promise((resolve, reject) =>
    child.on("close", (code) => {
      const endedAt = Date.now();
      if (code !== 0) return reject(new Error(`pulumi up exited ${code}: ${log.slice(-2000)}`));
      resolve({ ms: endedAt - startedAt, log, startedAt, endedAt });
    }),
  );
}

/** Median of each phase over updates run with the CLI's log. */
function phaseMedians(ups: BareUp[]): string[] {
  const runs = ups.map((u) => updatePhases(u.log, u.startedAt, u.endedAt));
  const names = runs[0].phases.map((p) => p.name);
  const lines = names.map((name) => {
    const ms = runs.map((r) => r.phases.find((p) => p.name === name)?.ms ?? NaN);
    return `  ${name.padEnd(56)} ${(median(ms) / 1000).toFixed(2)}  [${ms.map((x) => (x / 1000).toFixed(2)).join(", ")}]`;
  });
  const total = median(ups.map((u) => u.ms));
  return [
    `bare pulumi up with the CLI's log (-v=7), s: median ${(total / 1000).toFixed(2)}; phases (median, samples):`,
    ...lines,
    `  checkpoint writes per update: ${runs.map((r) => r.checkpoints).join(", ")}`,
  ];
}

async function main() {
  const stack = new DriverStack({ blueVersion: "1.0.0", greenVersion: "1.0.0", desiredCount: "1" });
  try {
    const first = await stack.run(["set-weight", "0"]);
    if (first.code !== 0) throw new Error(`set-weight failed: ${first.stderr}`);

    // Half the bare updates before the driver's, half after: a machine whose load changes
    // during the run weighs on both alike.
    const bare: number[] = [];
    for (const w of WEIGHTS.slice(0, 3)) bare.push((await bareUp(stack, w)).ms);
    const logged: BareUp[] = [];
    for (const w of WEIGHTS.slice(0, 3)) logged.push(await bareUp(stack, w + 1, true));
    await bareUp(stack, 0);

    const setWeight: number[] = [];
    for (const w of WEIGHTS.slice(0, 5)) {
      const started = Date.now();
      const run = await stack.run(["set-weight", String(w)]);
      if (run.code !== 0) throw new Error(`set-weight failed: ${run.stderr}`);
      setWeight.push(Date.now() - started);
    }
    await stack.run(["set-weight", "0"]);

    const rollout = await stack.run([
      "rollout",
      "--version",
      "2.0.0",
      "--steps",
      WEIGHTS.join(","),
      "--bake",
      "0s",
      "--metrics",
      "off",
      "--interval",
      "1s",
      "--scale-down-delay",
      "0s",
    ]);
    if (rollout.code !== 0) throw new Error(`rollout failed: ${rollout.stderr}`);
    // The promotion scaled the old colour to 0; scaled up again (not timed), it takes weight.
    await bareUp(stack, 0, false, { canaryScale: "100" });
    for (const w of WEIGHTS.slice(3, 6)) bare.push((await bareUp(stack, w)).ms);
    // A step: from one step's weight applied to the next one's, gates and state writes included.
    const stepAt = rollout.events
      .filter((e) => e.type === "step" && (e.release as { status: string }).status === "running")
      .map((e) => Date.parse(e.time as string));
    const steps = stepAt.slice(1).map((t, i) => t - stepAt[i]);
    const ups = rollout.events
      .filter((e) => e.type === "update-finished" && String(e.purpose).startsWith("step "))
      .map((e) => e.durationMs as number);

    const fmt = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(2)).join(", ");
    const lines = [
      `bare pulumi up (weight only), s:           median ${(median(bare) / 1000).toFixed(2)}  [${fmt(bare)}]`,
      `driver rollout step (gates+state+up), s:   median ${(median(steps) / 1000).toFixed(2)}  [${fmt(steps)}]`,
      `  of which the up inside the step, s:      median ${(median(ups) / 1000).toFixed(2)}  [${fmt(ups)}]`,
      `driver set-weight command (whole CLI), s:  median ${(median(setWeight) / 1000).toFixed(2)}  [${fmt(setWeight)}]`,
      `per-step overhead of the driver: ${((median(steps) - median(bare)) / 1000).toFixed(2)} s ` +
        `(${(((median(steps) - median(bare)) / median(bare)) * 100).toFixed(0)} % of a bare up)`,
      `driver step / bare pulumi up: ${(median(steps) / median(bare)).toFixed(2)} (target <= 1.10)`,
      ...phaseMedians(logged),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await stack.dispose();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:step: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
