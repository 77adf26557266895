import * as http from "http";
import { AddressInfo } from "net";
import { parseForwardRule, RuleError } from "./forward-rule";
import { closeGracefully } from "./graceful-close";
import { HEALTH_CHECK_USER_AGENT } from "./protocol";
import { Router } from "./router";
import { TrafficMetrics } from "./traffic-metrics";

/**
 * The local load balancer: a listener that forwards each request by the forward
 * rule's weights, and an admin listener on its own port (so its paths can never
 * clash with the service's) to read and replace the rule and read metrics.
 */
export interface HealthCheckOptions {
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export interface BalancerOptions {
  host: string;
  /** 0 binds a free port. */
  port: number;
  adminPort: number;
  healthCheck: HealthCheckOptions;
  /** Attempts per idempotent request when a target cannot be reached (ALB would answer 502). */
  maxAttempts: number;
  /** Idle time after which a forwarded request is answered 504. */
  targetTimeoutMs: number;
}

export const DEFAULT_HEALTH_CHECK: HealthCheckOptions = {
  intervalMs: 1000,
  timeoutMs: 1000,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
};

export interface RunningBalancer {
  readonly port: number;
  readonly adminPort: number;
  close(drainMs: number): Promise<void>;
}

/** As `GET /config` and `PUT /config` answer. */
export interface RuleView {
  revision: number;
  groups: { id: string; weight: number; targets: { url: string; healthy: boolean }[] }[];
}

export interface MetricsView {
  generatedAt: string;
  targetGroups: ReturnType<TrafficMetrics["snapshot"]>;
  unrouted: { requests: number };
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

const MAX_ADMIN_BODY_BYTES = 1_000_000;

function endToEndHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const result: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) result[name] = value;
  }
  return result;
}

function canRetry(req: http.IncomingMessage): boolean {
  const idempotent = req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS";
  const noBody =
    req.headers["transfer-encoding"] === undefined &&
    (req.headers["content-length"] === undefined || req.headers["content-length"] === "0");
  return idempotent && noBody;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_ADMIN_BODY_BYTES) {
        reject(new RuleError(`the body must be at most ${MAX_ADMIN_BODY_BYTES} bytes`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
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

type Attempt =
  | { kind: "answered" }
  | { kind: "unreachable"; refused: boolean }
  | { kind: "failed"; status: number };

export async function startBalancer(options: BalancerOptions): Promise<RunningBalancer> {
  const router = new Router(options.healthCheck);
  const metrics = new TrafficMetrics();
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  let unrouted = 0;

  function ruleView(): RuleView {
    const { revision, rule } = router.current;
    return {
      revision,
      groups: rule.groups.map((g) => ({
        id: g.id,
        weight: g.weight,
        targets: g.targets.map((url) => ({ url, healthy: router.health.isHealthy(url) })),
      })),
    };
  }

  /** One try against one target; resolves once the client has its answer or the try failed early. */
  function attempt(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    groupId: string,
    target: string,
    retryable: boolean,
  ): Promise<Attempt> {
    return new Promise((resolve) => {
      const started = performance.now();
      const headers = endToEndHeaders(req.headers);
      const remote = req.socket.remoteAddress ?? "";
      const forwardedFor = req.headers["x-forwarded-for"];
      headers["x-forwarded-for"] = forwardedFor ? `${forwardedFor}, ${remote}` : remote;
      headers["x-forwarded-proto"] = "http";
      headers["x-forwarded-port"] = String(req.socket.localPort ?? "");
      const proxied = http.request(`${target}${req.url ?? "/"}`, {
        method: req.method,
        headers,
        agent,
      });
      let settled = false;
      const settle = (result: Attempt) => {
        if (!settled) {
          settled = true;
          resolve(result);
        }
      };
      proxied.setTimeout(options.targetTimeoutMs, () => {
        proxied.destroy();
        settle({ kind: "failed", status: 504 });
      });
      proxied.on("response", (upstream) => {
        const latencyMs = performance.now() - started;
        const status = upstream.statusCode ?? 502;
        metrics.record(groupId, Date.now(), { status, latencyMs });
        res.writeHead(status, upstream.statusMessage, endToEndHeaders(upstream.headers));
        upstream.pipe(res);
        upstream.on("error", () => res.destroy());
        settle({ kind: "answered" });
      });
      proxied.on("error", (err: NodeJS.ErrnoException) => {
        if (settled) {
          res.destroy();
          return;
        }
        settle({ kind: "unreachable", refused: err.code === "ECONNREFUSED" });
      });
      res.on("close", () => {
        if (!res.writableFinished) proxied.destroy();
      });
      if (retryable) proxied.end();
      else req.pipe(proxied);
    });
  }

  async function forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const group = router.pickGroup();
    if (!group) {
      unrouted += 1;
      sendJson(res, 503, { error: "no target group has weight and targets" });
      return;
    }
    const retryable = canRetry(req);
    const tried = new Set<string>();
    let status = 502;
    for (let i = 0; i < (retryable ? options.maxAttempts : 1); i++) {
      const target = router.pickTarget(group.id, tried);
      if (target === undefined) break;
      tried.add(target);
      const result = await attempt(req, res, group.id, target, retryable);
      if (result.kind === "answered") return;
      if (result.kind === "failed") {
        status = result.status;
        break;
      }
      if (result.refused) router.health.markDown(target);
      if (res.destroyed) return;
    }
    metrics.record(group.id, Date.now(), { status });
    if (!res.headersSent) sendJson(res, status, { error: "no target of the group answered" });
  }

  async function admin(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/health" && req.method === "GET") {
      sendJson(res, 200, { status: "ok", pid: process.pid, port, adminPort });
    } else if (path === "/config" && req.method === "GET") {
      sendJson(res, 200, ruleView());
    } else if (path === "/config" && req.method === "PUT") {
      try {
        const text = await readBody(req);
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw new RuleError("the body must be JSON");
        }
        const rule = parseForwardRule(body);
        for (const g of rule.groups) metrics.ensureGroup(g.id, Date.now());
        router.apply(rule);
        sendJson(res, 200, ruleView());
      } catch (err) {
        if (!(err instanceof RuleError)) throw err;
        sendJson(res, 400, { error: err.message });
      }
    } else if (path === "/metrics" && req.method === "GET") {
      const view: MetricsView = {
        generatedAt: new Date().toISOString(),
        targetGroups: metrics.snapshot(),
        unrouted: { requests: unrouted },
      };
      sendJson(res, 200, view);
    } else if (["/health", "/config", "/metrics"].includes(path)) {
      sendJson(res, 405, { error: `${req.method} is not allowed on ${path}` });
    } else {
      sendJson(res, 404, { error: `no admin path ${path}; try /config, /metrics or /health` });
    }
  }

  const checking = new Set<string>();
  function checkTarget(target: string): void {
    if (checking.has(target)) return;
    checking.add(target);
    const done = (passed: boolean) => {
      if (!checking.delete(target)) return;
      router.health.report(target, passed);
    };
    const probe = http.get(
      `${target}/`,
      { agent: false, headers: { "user-agent": HEALTH_CHECK_USER_AGENT } },
      (res) => {
        res.resume();
        done(res.statusCode === 200);
      },
    );
    probe.setTimeout(options.healthCheck.timeoutMs, () => {
      probe.destroy();
      done(false);
    });
    probe.on("error", () => done(false));
  }
  const healthTimer = setInterval(
    () => router.targets().forEach(checkTarget),
    options.healthCheck.intervalMs,
  );

  const listener = http.createServer((req, res) => {
    forward(req, res).catch(() => res.destroy());
  });
  // Longer than the idle time of clients' pooled connections (as ALB's 60 s idle timeout).
  listener.keepAliveTimeout = 61_000;
  const adminServer = http.createServer((req, res) => {
    admin(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(err) });
      else res.destroy();
    });
  });
  let port: number;
  let adminPort: number;
  try {
    port = await listen(listener, options.port, options.host);
    adminPort = await listen(adminServer, options.adminPort, options.host);
  } catch (err) {
    clearInterval(healthTimer);
    listener.close();
    throw err;
  }
  return {
    port,
    adminPort,
    close: async (drainMs) => {
      await Promise.all([
        closeGracefully(listener, drainMs),
        closeGracefully(adminServer, drainMs),
      ]);
      clearInterval(healthTimer);
      agent.destroy();
    },
  };
}
