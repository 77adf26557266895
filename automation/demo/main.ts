/**
 * `npm run demo`: on the local stack, release a good version to 100 % with
 * metric gates (promoted), then a bad one (the error-rate knob) that the gates
 * catch and roll back. Drives the real CLI and shows its events live.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import { Color } from "../../infra/contract/settings";
import { createReporter } from "../cli/reporter";
import { formatDuration } from "../release/duration";
import { DriverEvent } from "../cli/text";
import { isActive } from "../release/state";
import { PROJECT_ROOT } from "../stack/environment";
import { PulumiStack } from "../stack/pulumiStack";
import { releaseOf } from "../stack/releaseTags";
import { NAMESPACE } from "../stack/stackSettings";

const STACK = "local";
/** The local stack's canaryHeader (Pulumi.local.yaml): the bad release is probed through it. */
const CANARY_HEADER = "X-Canary: always";
const CLI = path.join(PROJECT_ROOT, "build", "automation", "cli", "main.js");
const SETTINGS_FILE = path.join(PROJECT_ROOT, `Pulumi.${STACK}.yaml`);

/**
 * Runs `during` with these settings in the stack's settings file, as a person would set a
 * knob, and puts the file back byte for byte after: the demo leaves no tracked file modified.
 */
async function withSettings<T>(values: Record<string, string>, during: () => Promise<T>) {
  const before = fs.readFileSync(SETTINGS_FILE, "utf8");
  const lines = Object.entries(values).map(([k, v]) => `  ${NAMESPACE}:${k}: "${v}"`);
  const keys = new Set(Object.keys(values).map((k) => `${NAMESPACE}:${k}:`));
  const kept = before.split("\n").filter((l) => !keys.has(l.trim().split(" ")[0]));
  const at = kept.findIndex((l) => l.startsWith("config:"));
  fs.writeFileSync(
    SETTINGS_FILE,
    [...kept.slice(0, at + 1), ...lines, ...kept.slice(at + 1)].join("\n"),
  );
  try {
    return await during();
  } finally {
    fs.writeFileSync(SETTINGS_FILE, before);
  }
}

type TimedEvent = DriverEvent & { time: string };

/**
 * Runs the CLI as a user or CI would, a process with --json, and renders its events with the
 * CLI's own live view; its stderr passes through.
 */
async function cli(args: string[]): Promise<{ code: number | null; events: TimedEvent[] }> {
  const reporter = createReporter(process.stdout.isTTY ? "live" : "plain", false);
  const child = spawn(process.execPath, [CLI, ...args, "--stack", STACK, "--json"], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const events: TimedEvent[] = [];
  readline.createInterface({ input: child.stdout }).on("line", (line) => {
    if (!line.startsWith("{")) return;
    const event = JSON.parse(line) as TimedEvent;
    events.push(event);
    reporter.report(event);
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  reporter.stop();
  return { code, events };
}

/** Writes a release's report with the CLI (`report`, HTML); returns the line it printed. */
async function writeReport(release: string | undefined): Promise<string> {
  if (release === undefined) return "no release to report";
  const child = spawn(process.execPath, [CLI, "report", "--stack", STACK, "--release", release], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return code === 0 ? out.trim() : `the report of ${release} failed (exit ${code}); see above`;
}

/** The id of the release a CLI run started or resumed. */
function releaseId(events: TimedEvent[]): string | undefined {
  const started = events.find((e) => e.type === "release");
  return started?.type === "release" ? started.release.id : undefined;
}

function bump(version: string, by: number): string {
  const parts = version.split(".").map((p) => Number(p));
  if (parts.length !== 3 || parts.some((p) => !Number.isInteger(p))) return `${version}-${by}`;
  return `${parts[0]}.${parts[1]}.${parts[2] + by}`;
}

function at(event: TimedEvent | undefined): number {
  return event ? Date.parse(event.time) : NaN;
}

function say(line: string) {
  process.stdout.write(`\n== ${line}\n`);
}

async function main(): Promise<number> {
  const started = Date.now();
  say("bringing up the local stack (sample services and a weighted balancer on loopback)");
  const stack = await PulumiStack.open(STACK);
  if (isActive(releaseOf(await stack.listTags()))) {
    say("a release was in progress on the local stack: aborting it first");
    await cli(["abort"]);
  }
  // The driver starts from what the stack runs (colours, versions, scales from its last update,
  // whatever the settings file says), and the knobs from the file as committed (all 0).
  const up = await cli(["set-weight", "0"]);
  if (up.code !== 0) return up.code ?? 4;
  const outputs = await stack.outputs();
  if (!outputs) throw new Error("the local stack has no outputs after an update");
  const stable: Color = outputs.stableColor;
  const good = bump(outputs[stable].version, 1);
  const bad = bump(outputs[stable].version, 2);
  say(`service at ${outputs.url}: ${stable} serves ${outputs[stable].version}`);

  const gates = [
    "--steps",
    "20,50,100",
    "--bake",
    "45s",
    "--metrics",
    "judge",
    "--min-requests",
    "200",
    "--latency-ratio",
    "0",
    "--load",
    "40",
    "--interval",
    "5s",
    "--max-inconclusive",
    "4m",
    "--scale-down-delay",
    "10s",
  ];
  say(`release ${good} (healthy) with metric gates, 40 requests/s of load`);
  const first = await cli(["rollout", "--version", good, ...gates]);
  const firstOutcome = first.events.find((e) => e.type === "outcome");
  if (first.code !== 0) {
    say(`the good release did not promote (exit ${first.code}); see above`);
    return first.code ?? 4;
  }

  // After the promotion the old stable colour is the canary colour.
  const canary = stable;
  say(
    `release ${bad} (broken: its colour ${canary} answers 30 % of requests with 500), ` +
      `probed through the header "${CANARY_HEADER}" at 0 % before any user gets it`,
  );
  const preTraffic = ["--probe", "20", "--probe-header", CANARY_HEADER];
  const second = await withSettings({ [`${canary}ErrorRate`]: "0.3" }, () =>
    cli(["rollout", "--version", bad, ...gates, ...preTraffic]),
  );

  const firstShift = second.events.find(
    (e) => e.type === "update-finished" && e.purpose.startsWith("step 1/"),
  );
  const rollback = second.events.find(
    (e) => e.type === "update-finished" && e.purpose.startsWith("roll back"),
  );
  const secondOutcome = second.events.find((e) => e.type === "outcome");
  say("summary");
  process.stdout.write(
    [
      `good ${good}: ${firstOutcome?.type === "outcome" ? firstOutcome.outcome.kind : "?"} in ${formatDuration(at(first.events.at(-1)) - at(first.events[0]))}`,
      `bad ${bad}: ${secondOutcome?.type === "outcome" ? secondOutcome.outcome.kind : "?"}; ${firstShift ? `it served users for ${formatDuration(at(rollback) - at(firstShift))} before the rollback` : "the pre-traffic check caught it: no user request reached it"}`,
      `demo took ${formatDuration(Date.now() - started)}`,
      "",
    ].join("\n"),
  );
  say("reports (one HTML file each, opens offline)");
  process.stdout.write(`good: ${await writeReport(releaseId(first.events))}\n`);
  process.stdout.write(`bad:  ${await writeReport(releaseId(second.events))}\n`);
  say(`the local stack is still running at ${outputs.url}`);
  process.stdout.write("stop it with: npm run pulumi -- destroy -s local -y\n");
  return second.code === 1 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(4);
  },
);
