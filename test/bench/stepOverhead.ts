/**
 * `npm run bench:step`: the driver's time per rollout step against a bare
 * `pulumi up` that sets the same weight, on the same throw-away local stack in
 * the same run. Prints medians and every sample.
 */
import { spawn } from "child_process";
import * as path from "path";
import { PROJECT_ROOT, PULUMI_TOOLS } from "../../automation/stack/environment";
import { DriverStack } from "../integration/driver/driverHarness";

const WEIGHTS = [10, 20, 30, 40, 50, 60, 70];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function bareUp(stack: DriverStack, weight: number): Promise<number> {
  const started = Date.now();
  const child = spawn(
    path.join(PULUMI_TOOLS, "bin", "pulumi"),
    [
      "up",
      "--yes",
      "--skip-preview",
      "--stack",
      stack.name,
      "-c",
      `ecs-canary:canaryWeight=${weight}`,
    ],
    {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        ...stack.env,
        PATH: `${path.join(PULUMI_TOOLS, "bin")}${path.delimiter}${process.env.PATH}`,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      },
      stdio: "ignore",
    },
  );
  return new Promise((resolve, reject) =>
    child.on("close", (code) =>
      code === 0 ? resolve(Date.now() - started) : reject(new Error(`pulumi up exited ${code}`)),
    ),
  );
}

async function main() {
  const stack = new DriverStack({ blueVersion: "1.0.0", greenVersion: "1.0.0", desiredCount: "1" });
  try {
    const first = await stack.run(["set-weight", "0"]);
    if (first.code !== 0) throw new Error(`set-weight failed: ${first.stderr}`);

    const bare: number[] = [];
    for (const w of WEIGHTS.slice(0, 6)) bare.push(await bareUp(stack, w));
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
