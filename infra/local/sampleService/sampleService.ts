import * as http from "http";
import { AddressInfo } from "net";
import { shouldInjectError } from "./faultPlan";
import { closeGracefully } from "../shared/gracefulClose";
import { HEALTH_CHECK_USER_AGENT } from "../shared/protocol";

/**
 * The article's hello-world: answers `/` with its version. For demos and tests
 * it can answer a share of requests with 500 and add latency; health checks are
 * exempt from both so that a faulty canary still counts as running.
 */
export interface SampleServiceOptions {
  version: string;
  host: string;
  /** 0 binds a free port. */
  port: number;
  errorRate: number;
  latencyMs: number;
}

export interface RunningSampleService {
  readonly port: number;
  /** Stops accepting, lets requests in flight finish (up to `drainMs`), then closes. */
  close(drainMs: number): Promise<void>;
}

export const VERSION_HEADER = "x-app-version";

export function greeting(version: string): string {
  return `Hello World! Version: ${version}\n`;
}

export async function startSampleService(
  options: SampleServiceOptions,
): Promise<RunningSampleService> {
  let served = 0;
  const server = http.createServer((req, res) => {
    const isHealthCheck = req.headers["user-agent"] === HEALTH_CHECK_USER_AGENT;
    const path = (req.url ?? "/").split("?")[0];
    res.setHeader(VERSION_HEADER, options.version);
    res.setHeader("content-type", "text/plain; charset=utf-8");
    if (path !== "/") {
      res.writeHead(404).end("Not Found\n");
      return;
    }
    if (isHealthCheck) {
      res.writeHead(200).end(greeting(options.version));
      return;
    }
    const fail = shouldInjectError(served++, options.errorRate);
    const answer = () => {
      if (fail) res.writeHead(500).end(`Injected error. Version: ${options.version}\n`);
      else res.writeHead(200).end(greeting(options.version));
    };
    if (options.latencyMs > 0) setTimeout(answer, options.latencyMs);
    else answer();
  });
  // Longer than the balancer's pooled connections stay idle, so the balancer closes them first.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: (drainMs) => closeGracefully(server, drainMs),
  };
}
