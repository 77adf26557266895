/**
 * Process entry of the local load balancer. Started with `--port=` (0 = a free
 * port) and optional `--admin-port=`, `--host=`, `--health-interval-ms=`,
 * `--drain-ms=`, `--metrics-interval-ms=` (60000); `--instance=` only marks the process as the one a resource started.
 */
import { startBalancer } from "./balancer";
import { DEFAULT_HEALTH_CHECK } from "./healthChecker";
import { integerArg, parseArgs } from "../shared/processArgs";
import { reportReady } from "../shared/protocol";

const KNOWN = [
  "port",
  "admin-port",
  "host",
  "health-interval-ms",
  "drain-ms",
  "metrics-interval-ms",
  "instance",
];

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), KNOWN);
  const interval = integerArg(
    args,
    "health-interval-ms",
    DEFAULT_HEALTH_CHECK.intervalMs,
    50,
    60_000,
  );
  const balancer = await startBalancer({
    host: args.get("host") ?? "127.0.0.1",
    metricsIntervalMs: integerArg(args, "metrics-interval-ms", 60_000, 1000, 3_600_000),
    port: integerArg(args, "port", 0, 0, 65535),
    adminPort: integerArg(args, "admin-port", 0, 0, 65535),
    healthCheck: {
      ...DEFAULT_HEALTH_CHECK,
      intervalMs: interval,
      timeoutMs: Math.min(interval, 1000),
    },
    targetTimeoutMs: 60_000,
  });
  const drainMs = integerArg(args, "drain-ms", 10_000, 0, 600_000);
  console.log(
    `balancer listening on port ${balancer.port}, admin on port ${balancer.adminPort} (pid ${process.pid})`,
  );
  reportReady({ port: balancer.port, adminPort: balancer.adminPort });
  const stop = (signal: string) => {
    console.log(`${signal}: draining`);
    balancer.close(drainMs).then(() => process.exit(0));
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
