import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { isReadyMessage } from "../shared/protocol";

/**
 * Starting, finding and stopping the local processes. They are detached (their
 * own process group, stdio to a log file) so that they outlive the `pulumi up`
 * that started them. A process is known by its pid plus an `--instance=` token
 * in its command line, so that a recycled pid is never mistaken for ours.
 */
export interface ProcessSpec {
  script: string;
  args: string[];
  env: Record<string, string>;
  token: string;
  logFile: string;
  readyTimeoutMs: number;
}

export interface StartedProcess {
  pid: number;
  token: string;
  ports: Record<string, number>;
  logFile: string;
}

export function instanceArg(token: string): string {
  return `--instance=${token}`;
}

/** The last lines of a log, for error messages. */
export function logTail(logFile: string, maxBytes = 2000): string {
  try {
    const text = fs.readFileSync(logFile, "utf8");
    return text.slice(-maxBytes).trim();
  } catch {
    return "";
  }
}

/** Spawns `spec.script` detached and resolves once it reports its ports. */
export function startDetached(spec: ProcessSpec): Promise<StartedProcess> {
  fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
  const log = fs.openSync(spec.logFile, "a");
  const child = spawn(process.execPath, [spec.script, ...spec.args, instanceArg(spec.token)], {
    detached: true,
    stdio: ["ignore", log, log, "ipc"],
    env: { ...process.env, ...spec.env },
  });
  fs.closeSync(log);
  return new Promise((resolve, reject) => {
    const fail = (reason: string) => {
      cleanup();
      if (child.exitCode === null && child.pid !== undefined) child.kill("SIGKILL");
      const tail = logTail(spec.logFile);
      reject(
        new Error(
          `${path.basename(spec.script)} ${reason} (log ${spec.logFile})${tail ? `:\n${tail}` : ""}`,
        ),
      );
    };
    const onMessage = (message: unknown) => {
      if (!isReadyMessage(message) || child.pid === undefined) return;
      cleanup();
      resolve({ pid: child.pid, token: spec.token, ports: message.ports, logFile: spec.logFile });
    };
    const onExit = (code: number | null, signal: string | null) =>
      fail(`exited before it was ready (${signal ?? `code ${code}`})`);
    const onError = (err: Error) => fail(`could not start: ${err.message}`);
    const timer = setTimeout(
      () => fail(`was not ready within ${spec.readyTimeoutMs} ms`),
      spec.readyTimeoutMs,
    );
    function cleanup() {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
      child.off("error", onError);
      if (child.connected) child.disconnect();
      child.unref();
    }
    child.on("message", onMessage);
    child.on("exit", onExit);
    child.on("error", onError);
  });
}

const HAS_PROC = fs.existsSync("/proc/self/cmdline");

/** Whether `pid` is alive and is the process that was started with `token`. */
export function isRunning(pid: number, token: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (HAS_PROC) {
    try {
      // A zombie has an empty command line, so it does not count as running.
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      return argv.includes(instanceArg(token));
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitForExit(pid: number, token: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(pid, token)) {
    if (Date.now() >= deadline) return false;
    await sleep(25);
  }
  return true;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

/**
 * SIGTERM (the process drains its requests in flight), then SIGKILL after
 * `graceMs`. Does nothing when the process is gone or is not ours.
 */
export async function stopProcess(pid: number, token: string, graceMs: number): Promise<void> {
  if (!isRunning(pid, token)) return;
  signal(pid, "SIGTERM");
  if (await waitForExit(pid, token, graceMs)) return;
  signal(pid, "SIGKILL");
  if (!(await waitForExit(pid, token, 5000))) {
    throw new Error(`process ${pid} (${token}) did not stop after SIGKILL`);
  }
}
