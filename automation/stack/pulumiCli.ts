import { spawn } from "child_process";

export interface CliOptions {
  cwd: string;
  /** Added to this process's environment. */
  env: Record<string, string>;
  /** Receives stdout as it comes. */
  onOutput?: (text: string) => void;
  /** Sends SIGINT: the engine stops an update gracefully, as on Ctrl-C. */
  signal?: AbortSignal;
}

/**
 * Runs the Pulumi CLI once, non-interactively, as the Automation API does (its own runner is
 * internal to @pulumi/pulumi). Resolves with stdout; a non-zero exit rejects with an error
 * whose message holds the command, the exit code and stderr.
 */
export function runPulumi(command: string, args: string[], options: CliOptions): Promise<string> {
  const argv = [...args, "--non-interactive"];
  const child = spawn(command, argv, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, PULUMI_AUTOMATION_API: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    stdout += text;
    options.onOutput?.(text);
  });
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  const abort = () => child.kill("SIGINT");
  if (options.signal?.aborted) abort();
  options.signal?.addEventListener("abort", abort, { once: true });
  return new Promise((resolve, reject) => {
    child.on("error", (err) => reject(new Error(`could not run ${command}: ${err.message}`)));
    child.on("close", (code, signal) => {
      options.signal?.removeEventListener("abort", abort);
      if (code === 0) return resolve(stdout);
      reject(
        new Error(
          `pulumi ${args[0]} exited with ${signal ?? `code ${code}`}\n${stderr.trim()}\n${stdout.trim()}`,
        ),
      );
    });
  });
}
