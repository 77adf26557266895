/**
 * Process entry of the sample service. Settings come from the environment as
 * in the article's container: APPVERSION, PORT (0 = a free port), HOST,
 * ERROR_RATE (0-1), LATENCY_MS, DRAIN_MS, and CRASH_AFTER_MS: the process
 * exits with code 1 that many ms after it starts listening (0: never), as a
 * crashing container would.
 */
import { reportReady } from "../shared/protocol";
import { startSampleService } from "./sampleService";

const CRASH_EXIT_CODE = 1;

function numberFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${name}=${JSON.stringify(raw)} must be a number from ${min} to ${max}`);
  }
  return value;
}

async function main(): Promise<void> {
  const version = process.env.APPVERSION ?? "unknown";
  const service = await startSampleService({
    version,
    host: process.env.HOST ?? "127.0.0.1",
    port: numberFromEnv("PORT", 4000, 0, 65535),
    errorRate: numberFromEnv("ERROR_RATE", 0, 0, 1),
    latencyMs: numberFromEnv("LATENCY_MS", 0, 0, 600_000),
  });
  const drainMs = numberFromEnv("DRAIN_MS", 10_000, 0, 600_000);
  const crashAfterMs = numberFromEnv("CRASH_AFTER_MS", 0, 0, 3_600_000);
  console.log(`sample service ${version} listening on port ${service.port} (pid ${process.pid})`);
  if (crashAfterMs > 0) {
    setTimeout(() => {
      console.error(
        `sample service ${version} crashing as asked: CRASH_AFTER_MS=${crashAfterMs} elapsed since it started listening; exit code ${CRASH_EXIT_CODE}`,
      );
      process.exit(CRASH_EXIT_CODE);
    }, crashAfterMs);
  }
  reportReady({ port: service.port });
  const stop = (signal: string) => {
    console.log(`${signal}: draining`);
    service.close(drainMs).then(() => process.exit(0));
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
