import * as http from "http";
import { AddressInfo } from "net";
import { createAdminHandler, recordHostCounts } from "./adminApi";
import { closeGracefully } from "../shared/gracefulClose";
import { HealthCheckOptions, startHealthChecks } from "./healthChecker";
import { createProxy, sendJson } from "./proxy";
import { Router } from "./router";
import { TrafficMetrics } from "./trafficMetrics";

/**
 * The local load balancer: a listener that forwards by the forward rule's
 * weights (proxy.ts), and an admin listener on its own port, so that its paths
 * can never clash with the service's (admin-api.ts).
 */
export interface BalancerOptions {
  host: string;
  /** Length of a metrics bucket (ms). */
  metricsIntervalMs: number;
  /** 0 binds a free port. */
  port: number;
  adminPort: number;
  healthCheck: HealthCheckOptions;
  /** Idle time after which a forwarded request is answered 504 (ALB's idle timeout: 60 s). */
  targetTimeoutMs: number;
}

export interface RunningBalancer {
  readonly port: number;
  readonly adminPort: number;
  /** Stops accepting, lets requests in flight finish (up to `drainMs`), then closes. */
  close(drainMs: number): Promise<void>;
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startBalancer(options: BalancerOptions): Promise<RunningBalancer> {
  const router = new Router(options.healthCheck);
  // Keep at least three hours: the judge reads every interval since a release's first step.
  const metrics = new TrafficMetrics({
    intervalMs: options.metricsIntervalMs,
    retainMinutes: Math.max(60, Math.ceil((3 * 3_600_000) / options.metricsIntervalMs)),
  });
  const proxy = createProxy({ router, metrics, targetTimeoutMs: options.targetTimeoutMs });
  const ports = { port: 0, adminPort: 0 };
  const admin = createAdminHandler({ router, metrics, ports: () => ports });

  const listener = http.createServer((req, res) => {
    proxy.handle(req, res).catch(() => res.destroy());
  });
  // Longer than clients' pooled connections idle (as ALB's 60 s idle timeout).
  listener.keepAliveTimeout = 61_000;
  const adminServer = http.createServer((req, res) => {
    admin(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(err) });
      else res.destroy();
    });
  });
  try {
    ports.port = await listen(listener, options.port, options.host);
    ports.adminPort = await listen(adminServer, options.adminPort, options.host);
  } catch (err) {
    listener.close();
    proxy.close();
    throw err;
  }
  // CloudWatch publishes host counts every minute, with or without requests: so does each round.
  const stopHealthChecks = startHealthChecks(router, options.healthCheck, () =>
    recordHostCounts(router, metrics, Date.now()),
  );
  return {
    ...ports,
    close: async (drainMs) => {
      await Promise.all([
        closeGracefully(listener, drainMs),
        closeGracefully(adminServer, drainMs),
      ]);
      stopHealthChecks();
      proxy.close();
    },
  };
}
