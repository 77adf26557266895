import * as http from "http";
import { HEALTH_CHECK_USER_AGENT } from "./protocol";

/** Small HTTP helpers for talking to the local processes over loopback. */
export interface JsonResponse {
  status: number;
  body: unknown;
}

export function requestJson(
  method: "GET" | "PUT",
  url: string,
  body?: unknown,
  timeoutMs = 5000,
): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      {
        method,
        agent: false,
        headers: payload
          ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
          : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch {
            reject(
              new Error(
                `${method} ${url} answered ${res.statusCode} with non-JSON: ${text.slice(0, 200)}`,
              ),
            );
          }
        });
      },
    );
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`${method} ${url} timed out after ${timeoutMs} ms`)),
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** Status of one health check (`GET /` as the balancer's checker sends it); 0 when unreachable. */
export function healthCheck(baseUrl: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(
      `${baseUrl}/`,
      { agent: false, headers: { "user-agent": HEALTH_CHECK_USER_AGENT } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy());
    req.on("error", () => resolve(0));
  });
}
