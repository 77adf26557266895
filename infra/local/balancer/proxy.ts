import * as http from "http";
import { Router } from "./router";
import { TrafficMetrics } from "./trafficMetrics";

/**
 * The balancer's listener: forwards each request once, to one target of the group the router
 * picks, and records the outcome as CloudWatch would count it (traffic-metrics.ts). Like an ALB
 * it does not retry a request on another target: ALB's troubleshooting guide lists a TCP RST
 * from the target "when attempting to establish a connection" as a cause of the 502 the client
 * gets, and a timeout as the cause of a 504
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html;
 * "It does not retry ... while processing a request",
 * https://repost.aws/questions/QUx1Aafz9fQc2nbRlRRZutOA). The answers the balancer makes itself:
 * - 503 when no group has weight, or the picked group has no registered targets: a load-balancer
 *   5xx only, not a request of the group (no target was chosen);
 * - 502 when the chosen target refuses or drops the connection: a request of the group, a
 *   target connection error when no connection was established, and a load-balancer 5xx;
 * - 504 when the target does not answer within `targetTimeoutMs`: a request of the group and a
 *   load-balancer 5xx.
 */
export interface ProxyOptions {
  router: Router;
  metrics: TrafficMetrics;
  targetTimeoutMs: number;
}

export interface Proxy {
  handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
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

/** The client closed its connection before it was answered (ALB logs such a request as 460). */
const CLIENT_CLOSED = 460;

export function endToEndHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const result: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) result[name] = value;
  }
  return result;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** How forwarding to the target ended, before any answer reached the client. */
type Forwarded =
  | { kind: "answered"; status: number; latencyMs: number }
  | { kind: "failed"; status: 502 | 504 | typeof CLIENT_CLOSED; connectionError: boolean };

export function createProxy(options: ProxyOptions): Proxy {
  const { router, metrics } = options;
  // Pooled connections to targets close after 30 s idle, before the targets' own 65 s.
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, timeout: 30_000 });

  /** Sends the request to `target`; resolves once the client is being answered or it failed. */
  function forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    target: string,
    setCookies: readonly string[],
  ): Promise<Forwarded> {
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
      // A pooled socket is connected already; a new one is once it emits "connect".
      let connected = false;
      proxied.on("socket", (socket) => {
        if (!socket.connecting) connected = true;
        else socket.once("connect", () => (connected = true));
      });
      let outcome: Forwarded | undefined;
      const settle = (result: Forwarded) => {
        if (outcome) return;
        outcome = result;
        resolve(result);
      };
      proxied.setTimeout(options.targetTimeoutMs, () => {
        settle({ kind: "failed", status: 504, connectionError: !connected });
        proxied.destroy();
      });
      proxied.on("response", (upstream) => {
        const status = upstream.statusCode ?? 502;
        settle({ kind: "answered", status, latencyMs: performance.now() - started });
        const headers = endToEndHeaders(upstream.headers);
        if (setCookies.length > 0) {
          headers["set-cookie"] = [...(upstream.headers["set-cookie"] ?? []), ...setCookies];
        }
        res.writeHead(status, upstream.statusMessage, headers);
        upstream.pipe(res);
        upstream.on("error", () => res.destroy());
      });
      proxied.on("error", () => {
        // Once the answer has started, a broken target connection can only cut it short.
        if (outcome?.kind === "answered") res.destroy();
        settle({ kind: "failed", status: 502, connectionError: !connected });
      });
      res.on("close", () => {
        if (res.writableFinished) return;
        settle({ kind: "failed", status: CLIENT_CLOSED, connectionError: false });
        proxied.destroy();
      });
      req.pipe(proxied);
    });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { group, setCookies } = router.route(
      { headerValues: (name) => req.headersDistinct[name] ?? [], cookie: req.headers.cookie },
      Date.now(),
    );
    const target = group && router.pickTarget(group.id);
    if (!group || target === undefined) {
      metrics.recordWithoutTarget(Date.now(), 503);
      sendJson(res, 503, {
        error: group
          ? `target group ${group.id} has no registered targets`
          : "no target group has weight",
      });
      return;
    }
    const result = await forward(req, res, target, setCookies);
    if (result.kind === "answered") {
      metrics.record(group.id, Date.now(), { status: result.status, latencyMs: result.latencyMs });
      return;
    }
    metrics.record(group.id, Date.now(), {
      status: result.status,
      connectionError: result.connectionError,
    });
    if (result.status === CLIENT_CLOSED || res.headersSent || res.destroyed) return;
    sendJson(res, result.status, {
      error:
        result.status === 504
          ? `target ${target} of ${group.id} did not answer within ${options.targetTimeoutMs} ms`
          : `target ${target} of ${group.id} could not be reached`,
    });
  }

  return { handle, close: () => agent.destroy() };
}
