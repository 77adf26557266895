import * as http from "http";
import { HeaderRoute, parseForwardRule, RuleError } from "./forwardRule";
import { sendJson } from "./proxy";
import { Router } from "./router";
import { GroupSnapshot, LoadBalancerSnapshot, TrafficMetrics } from "./trafficMetrics";

/**
 * The balancer's admin API, on a port of its own:
 *   GET /health   {status, pid, port, adminPort}
 *   GET /config   the rule as applied, with each target's health (RuleView)
 *   PUT /config   replace the rules in one step ({groups: [{id, weight, targets}],
 *                 stickinessSeconds?, headerRoute?: {name, value, groupId}}); answers the
 *                 applied RuleView, or 400 {error} and the old rules stay
 *   GET /metrics  per target group and for the load balancer: running totals and one bucket
 *                 per interval (MetricsView; names as traffic-metrics.ts explains them)
 */
export interface RuleView {
  revision: number;
  groups: { id: string; weight: number; targets: { url: string; healthy: boolean }[] }[];
  /** Absent when stickiness is off. */
  stickinessSeconds?: number;
  /** Absent when there is no header route. */
  headerRoute?: HeaderRoute;
}

export interface MetricsView {
  generatedAt: string;
  /** Length of one bucket ("minutes" holds one per interval, whatever its length). */
  intervalMs: number;
  targetGroups: Record<string, GroupSnapshot>;
  /** 5xx the balancer generated itself (502, 503, 504); buckets only where there was one. */
  loadBalancer: LoadBalancerSnapshot;
}

export interface AdminApiOptions {
  router: Router;
  metrics: TrafficMetrics;
  ports: () => { port: number; adminPort: number };
}

/** Records each group's healthy and unhealthy targets as the router sees them now. */
export function recordHostCounts(router: Router, metrics: TrafficMetrics, nowMs: number): void {
  for (const [groupId, hosts] of router.hostCounts()) metrics.recordHosts(groupId, nowMs, hosts);
}

export function metricsView(metrics: TrafficMetrics, nowMs: number): MetricsView {
  return {
    generatedAt: new Date(nowMs).toISOString(),
    intervalMs: metrics.intervalMs,
    targetGroups: metrics.snapshot(),
    loadBalancer: metrics.loadBalancerSnapshot(),
  };
}

const MAX_BODY_BYTES = 1_000_000;
const PATHS = ["/health", "/config", "/metrics"];

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new RuleError(`the body must be at most ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export function ruleView(router: Router): RuleView {
  const { revision, rule } = router.current;
  return {
    revision,
    groups: rule.groups.map((g) => ({
      id: g.id,
      weight: g.weight,
      targets: g.targets.map((url) => ({ url, healthy: router.health.isHealthy(url) })),
    })),
    ...(rule.stickinessSeconds !== undefined && { stickinessSeconds: rule.stickinessSeconds }),
    ...(rule.headerRoute !== undefined && { headerRoute: { ...rule.headerRoute } }),
  };
}

export function createAdminHandler(
  options: AdminApiOptions,
): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> {
  const { router, metrics } = options;

  async function putConfig(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const text = await readBody(req);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new RuleError("the body must be JSON");
      }
      const rule = parseForwardRule(body);
      const now = Date.now();
      for (const g of rule.groups) metrics.ensureGroup(g.id, now);
      router.apply(rule);
      recordHostCounts(router, metrics, now);
      sendJson(res, 200, ruleView(router));
    } catch (err) {
      if (!(err instanceof RuleError)) throw err;
      sendJson(res, 400, { error: err.message });
    }
  }

  return async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const route = `${req.method} ${path}`;
    if (route === "GET /health") {
      sendJson(res, 200, { status: "ok", pid: process.pid, ...options.ports() });
    } else if (route === "GET /config") {
      sendJson(res, 200, ruleView(router));
    } else if (route === "PUT /config") {
      await putConfig(req, res);
    } else if (route === "GET /metrics") {
      sendJson(res, 200, metricsView(metrics, Date.now()));
    } else if (PATHS.includes(path)) {
      sendJson(res, 405, { error: `${req.method} is not allowed on ${path}` });
    } else {
      sendJson(res, 404, { error: `no admin path ${path}; try ${PATHS.join(", ")}` });
    }
  };
}
