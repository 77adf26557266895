#!/usr/bin/env node
import yargs, { Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { ConfigError, parseInteger } from "../../infra/contract/settings";
import { gatesFor } from "../gates/registry";
import { JudgeInputError } from "../judge/types";
import { TrafficGenerator } from "../load/generator";
import { ReleaseEngine } from "../release/engine";
import {
  DriverError,
  errorLine,
  ReleaseChangedError,
  ReleaseInProgressError,
  UsageError,
} from "../release/errors";
import { Clock, Outcome, ReleaseEvent } from "../release/ports";
import { workingCopy } from "../stack/environment";
import { describeHolder, leaseTiming, StackLease } from "../stack/lease";
import { PulumiStack } from "../stack/pulumiStack";
import { StackTraffic } from "../stack/stackTraffic";
import { TerminalApprover } from "./approver";
import { sleep } from "./clock";
import { EXIT, EXIT_CODES_HELP, exitCodeFor } from "./exitCodes";
import { withGateOptions } from "./gateFlags";
import { createReporter, OutputMode, Reporter } from "./reporter";
import { ReleaseFlags, releaseRequest } from "./releaseFlags";
import { keepReleaseForReport, stackReportSources, writeReport } from "./report";
import { printStatus } from "./status";
import { describePlan, driverEvent, errorMessage, showOutcome } from "./text";

const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, signal),
};

interface CommonArgs {
  stack: string;
  json?: boolean;
  plain?: boolean;
  verbose?: boolean;
}

function outputMode(args: CommonArgs): OutputMode {
  if (args.json) return "json";
  if (args.plain || !process.stdout.isTTY) return "plain";
  return "live";
}

/** Runs one engine command with a lock, Ctrl-C handling, optional load, and exit codes. */
async function withEngine(
  command: string,
  args: CommonArgs & { load?: number },
  run: (engine: ReleaseEngine, reporter: Reporter) => Promise<Outcome | string[]>,
  options: { lock: boolean } = { lock: true },
): Promise<number> {
  const reporter = createReporter(outputMode(args), args.verbose ?? false);
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    process.stderr.write("\nstopping at the next safe point (Ctrl-C again to quit at once)...\n");
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const timing = leaseTiming();
  let lease: StackLease | undefined;
  let load: TrafficGenerator | undefined;
  try {
    const stack = await PulumiStack.open(args.stack, {
      workDir: workingCopy(),
      onOutput: (text) => reporter.engineOutput(text),
      onLockCancelled: (holder) =>
        process.stderr.write(
          `cancelled the stack lock of an update that no longer runs (pid ${holder.pid} on ${holder.host})\n`,
        ),
      onRecovered: (line) => process.stderr.write(`${line}\n`),
      signal: controller.signal,
    });
    if (options.lock) {
      lease = await StackLease.acquire(stack, `ecs-canary ${command}`, timing, {
        onTakeover: (previous) =>
          process.stderr.write(
            `took over the lease of stack ${stack.name}: ${describeHolder(previous, Date.now())}\n`,
          ),
        onLost: (holder) => {
          process.stderr.write(
            `another driver took over stack ${stack.name}` +
              (holder ? `: ${describeHolder(holder, Date.now())}` : "") +
              `; stopping at the next safe point\n`,
          );
          controller.abort();
        },
      });
    }
    if (args.load !== undefined) {
      const outputs = await stack.outputs();
      if (!outputs)
        throw new UsageError(
          `invalid --load: stack ${args.stack} has no outputs yet; run \`pulumi up\` first`,
        );
      if (outputs.platform !== "local") {
        throw new UsageError(
          `invalid --load ${args.load}: the traffic generator is for local stacks only, ${args.stack} is on ${outputs.platform}`,
        );
      }
      load = new TrafficGenerator(outputs.url, args.load);
      load.start();
    }
    const report = (event: ReleaseEvent) => reporter.report(driverEvent(event, stack.name));
    const traffic = new StackTraffic(stack, { clock: realClock, report });
    const engine = new ReleaseEngine({
      traffic,
      releases: traffic,
      gates: gatesFor,
      approver: new TerminalApprover(
        Boolean(process.stdin.isTTY && process.stdout.isTTY) && !args.json,
      ),
      clock: realClock,
      report,
      signal: controller.signal,
    });
    const result = await run(engine, reporter);
    reporter.stop();
    if (Array.isArray(result)) {
      for (const line of result) process.stdout.write(`${line}\n`);
      return EXIT.ok;
    }
    if (outputMode(args) === "live") {
      process.stdout.write(`${result.kind}: ${showOutcome(result, stack.name).message}\n`);
    }
    // A finished release is kept with its metrics for its report, and the report command is
    // shown (on stderr in JSON mode, whose stdout is events only).
    const out = outputMode(args) === "json" ? process.stderr : process.stdout;
    await keepReleaseForReport(stackReportSources(stack, traffic), result.release, (line) =>
      out.write(`${line}\n`),
    );
    return exitCodeFor(result.kind, command);
  } finally {
    reporter.stop();
    if (load) {
      const stats = await load.stop();
      process.stderr.write(
        `load: ${stats.sent} requests sent, ${stats.ok} ok, ${stats.errors} 5xx, ${stats.failed} without answer\n`,
      );
    }
    await lease
      ?.release()
      .catch((err: unknown) =>
        process.stderr.write(`could not remove the lease: ${errorLine(String(err))}\n`),
      );
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function stackOption<T>(y: Argv<T>) {
  return y
    .option("stack", {
      alias: "s",
      type: "string",
      demandOption: true,
      describe: "Pulumi stack to drive (e.g. dev, local)",
    })
    .option("json", { type: "boolean", describe: "One JSON event per line (for CI)" })
    .option("plain", { type: "boolean", describe: "Plain lines instead of the live view" })
    .option("verbose", {
      type: "boolean",
      describe: "With --plain: show Pulumi's update output too",
    });
}

function releaseOptions<T>(y: Argv<T>) {
  const options = stackOption(y)
    .option("version", {
      alias: "V",
      type: "string",
      demandOption: true,
      describe: "Version to release (APPVERSION of the canary colour)",
    })
    .option("steps", {
      type: "string",
      default: "10,25,50,100",
      describe:
        "Increasing weights (10,25:5m,100) or a preset: Canary10Percent5Minutes, Canary10Percent15Minutes, Linear10PercentEvery1Minutes, Linear10PercentEvery3Minutes, AllAtOnce",
    })
    .option("bake", {
      type: "string",
      default: "5m",
      describe: "Hold time of a step without its own (30s, 5m, 1h)",
    })
    .option("image", {
      type: "string",
      describe: "Container image of the new version (default: the colour's current image)",
    });
  return withGateOptions(options)
    .option("scale-down-delay", {
      type: "string",
      default: "1m",
      describe: "After promotion, keep the old stable running this long (instant abort)",
    })
    .option("keep-canary", {
      type: "boolean",
      describe:
        "On rollback keep the failed version's tasks running (for debugging) instead of scaling them to 0",
    });
}

async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const set = (p: Promise<number>) => p.then((code) => void (exitCode = code));
  const parser = yargs(argv)
    .scriptName("ecs-canary")
    .version(false)
    .usage(
      "$0 <command> --stack <stack> [options]\n\nCanary releases of an ECS service behind an ALB, one canaryWeight at a time.",
    )
    .command(
      "rollout",
      "Release a new version through increasing canary weights, judging it between steps; promote or roll back",
      (y) =>
        releaseOptions(y).option("load", {
          type: "number",
          describe:
            "Local stacks: send this many requests a second during the release so gates have data",
        }),
      (args) => {
        const request = releaseRequest(args as unknown as ReleaseFlags);
        return set(withEngine("rollout", args, (engine) => engine.rollout(request)));
      },
    )
    .command(
      "plan",
      "Show what a rollout would do; changes nothing",
      (y) => releaseOptions(y),
      (args) => {
        const request = releaseRequest(args as unknown as ReleaseFlags);
        return set(
          withEngine("plan", args, (engine) => engine.plan(request).then(describePlan), {
            lock: false,
          }),
        );
      },
    )
    .command(
      "promote",
      "Approve a paused release and go on (--now: skip the remaining steps and promote)",
      (y) =>
        stackOption(y)
          .option("now", {
            type: "boolean",
            describe: "Promote at once, skipping the remaining steps",
          })
          .option("load", {
            type: "number",
            describe: "Local stacks: requests a second to send meanwhile",
          }),
      (args) => set(withEngine("promote", args, (engine) => engine.promote(Boolean(args.now)))),
    )
    .command(
      "abort",
      "All traffic back to the stable version: roll back a release, or undo a promotion while the old version still runs",
      (y) =>
        stackOption(y).option("keep-canary", {
          type: "boolean",
          describe:
            "Keep the rolled-back version's tasks running (default: as the release was started; --no-keep-canary scales them to 0)",
        }),
      (args) =>
        set(withEngine("abort", args, (engine) => engine.abort(args.keepCanary), { lock: false })),
    )
    .command(
      "set-weight <weight>",
      "One weight change outside a release, as `pulumi up -c canaryWeight=N`",
      (y) =>
        stackOption(y).positional("weight", {
          type: "string",
          describe: "Canary weight, 0-100",
          demandOption: true,
        }),
      (args) => {
        const weight = String(args.weight);
        parseInteger("weight", weight, 0, 100);
        return set(withEngine("set-weight", args, (engine) => engine.setWeight(weight)));
      },
    )
    .command(
      "status",
      "Show the stack's weights, versions and release progress",
      (y) => stackOption(y),
      (args) => set(printStatus(args.stack, Boolean(args.json))),
    )
    .command(
      "report",
      "Write a release's report: one self-contained HTML page with its timeline, decisions and judge evidence (or --json)",
      (y) =>
        y
          .option("stack", {
            alias: "s",
            type: "string",
            demandOption: true,
            describe: "Pulumi stack whose release to report",
          })
          .option("release", {
            type: "string",
            describe:
              "Release id (as `status --json` or the end of `rollout` shows it; default: the stack's current or last release)",
          })
          .option("out", {
            type: "string",
            describe: "File to write (default: reports/<stack>-<version>-<start>.html, or .json)",
          })
          .option("json", {
            type: "boolean",
            describe: "The report's data as JSON (to stdout unless --out) instead of HTML",
          }),
      (args) => set(writeReport(args)),
    )
    .demandCommand(1, "name a command: rollout, status, promote, abort, plan, set-weight or report")
    .strict()
    .epilogue(EXIT_CODES_HELP)
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  await parser.parseAsync();
  return exitCode;
}

export function exitCodeForError(err: unknown): number {
  if (
    err instanceof UsageError ||
    err instanceof ConfigError ||
    err instanceof JudgeInputError ||
    err instanceof RangeError
  ) {
    return EXIT.usage;
  }
  if (err instanceof ReleaseInProgressError || err instanceof ReleaseChangedError) {
    return EXIT.inProgress;
  }
  return EXIT.infrastructure;
}

if (require.main === module) {
  main(hideBin(process.argv)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      const code = exitCodeForError(err);
      // The driver's own errors are one line already, with what to run next; others are reduced to one.
      const message =
        err instanceof DriverError
          ? errorMessage(err)
          : errorLine(err instanceof Error ? err.message : String(err));
      process.stderr.write(`ecs-canary: ${message}\n`);
      process.exit(code);
    },
  );
}
