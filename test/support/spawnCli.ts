import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import { PROJECT_ROOT } from "../../automation/stack/environment";

const CLI = path.join(PROJECT_ROOT, "build", "automation", "cli", "main.js");

/** One line of `--json` output: a driver event and when it happened. */
export type CliEvent = { type: string; time: string } & Record<string, unknown>;

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  events: CliEvent[];
  /** What the driver wrote to stderr (empty when it was passed through). */
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  /** The working copy the command runs in (default: this project). */
  cwd?: string;
  /** Pass stderr through to this process instead of collecting it. */
  inheritStderr?: boolean;
  onEvent?: (event: CliEvent) => void;
}

/** Runs `ecs-canary <args> --json` as a child process and reads its events as they come. */
export function startCli(
  args: string[],
  options: CliOptions = {},
): { child: ChildProcess; events: CliEvent[]; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [CLI, ...args, "--json"], {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", options.inheritStderr ? "inherit" : "pipe"],
  });
  const events: CliEvent[] = [];
  let buffer = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (!line.startsWith("{")) continue;
      const event = JSON.parse(line) as CliEvent;
      events.push(event);
      options.onEvent?.(event);
    }
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const done = new Promise<CliRun>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, events, stderr })),
  );
  return { child, events, done };
}
