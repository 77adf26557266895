import * as http from "http";
import { Router } from "./router";
import { TrafficMetrics } from "./traffic-metrics";

/**
 * The balancer's listener: forwards each request to a target of the group the
 * router picks and records the outcome for that group. An idempotent request
 * without a body whose target cannot be reached is tried on another target of
 * the same group; otherwise the balancer answers 502 (504 after `targetTimeoutMs`).
 */
export interface ProxyOptions {
  router: Router;
  metrics: TrafficMetrics;
  maxAttempts: number;
  targetTimeoutMs: number;
}

export interface Proxy {
  handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
  /** Requests answered 503 because no group had weight and targets. */
  readonly unrouted: number;
  close(): void;
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

export function endToEndHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const result: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) result[name] = value;
  }
  return result;
}

export function canRetry(method: string | undefined, headers: http.IncomingHttpHeaders): boolean {
  const idempotent = method === "GET" || method === "HEAD" || method === "OPTIONS";
  const noBody =
    headers["transfer-encoding"] === undefined &&
    (headers["content-length"] === undefined || headers["content-length"] === "0");
  return idempotent && noBody;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

type Attempt =
  | { kind: "answered" }
  | { kind: "unreachable"; refused: boolean }
  | { kind: "failed"; status: number };

export function createProxy(options: ProxyOptions): Proxy {
  const { router, metrics } = options;
  // Pooled connections to targets close after 30 s idle, before the targets' own 65 s.
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, timeout: 30_000 });
  let unrouted = 0;

  /** One try against one target; resolves once the client is being answered or the try failed. */
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
      let outcome: Attempt | undefined;
      const settle = (result: Attempt) => {
        if (outcome) return;
        outcome = result;
        resolve(result);
      };
      proxied.setTimeout(options.targetTimeoutMs, () => {
        settle({ kind: "failed", status: 504 });
        proxied.destroy();
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
        // Once the answer has started, a broken target connection can only cut it short.
        if (outcome?.kind === "answered") res.destroy();
        settle({ kind: "unreachable", refused: err.code === "ECONNREFUSED" });
      });
      res.on("close", () => {
        if (!res.writableFinished) proxied.destroy();
      });
      if (retryable) proxied.end();
      else req.pipe(proxied);
    });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const group = router.pickGroup();
    if (!group) {
      unrouted += 1;
      sendJson(res, 503, { error: "no target group has weight and targets" });
      return;
    }
    const attempts = canRetry(req.method, req.headers) ? options.maxAttempts : 1;
    const tried = new Set<string>();
    let status = 502;
    for (let i = 0; i < attempts; i++) {
      const target = router.pickTarget(group.id, tried);
      if (target === undefined) break;
      tried.add(target);
      const result = await attempt(req, res, group.id, target, attempts > 1);
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

  return {
    handle,
    get unrouted() {
      return unrouted;
    },
    close: () => agent.destroy(),
  };
}
