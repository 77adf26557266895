import { expect } from "chai";
import * as http from "http";
import type { MetricsView } from "../../../infra/local/admin-api";
import { RunningBalancer, startBalancer } from "../../../infra/local/balancer";
import { requestJson } from "../../../infra/local/http-json";
import { canRetry, endToEndHeaders } from "../../../infra/local/proxy";
import { RunningSampleService, startSampleService } from "../../../infra/local/sample-service";

function request(url: string, method: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(method === "POST" ? "body" : undefined);
  });
}

describe("proxy rules", () => {
  it("retries only idempotent requests without a body", () => {
    expect(canRetry("GET", {})).to.equal(true);
    expect(canRetry("HEAD", { "content-length": "0" })).to.equal(true);
    expect(canRetry("GET", { "content-length": "3" })).to.equal(false);
    expect(canRetry("GET", { "transfer-encoding": "chunked" })).to.equal(false);
    expect(canRetry("POST", {})).to.equal(false);
  });

  it("drops hop-by-hop headers", () => {
    expect(
      endToEndHeaders({
        connection: "keep-alive",
        "keep-alive": "timeout=5",
        host: "h",
        "x-a": "1",
      }),
    ).to.deep.equal({ host: "h", "x-a": "1" });
  });
});

describe("proxy failures (in-process servers)", function () {
  this.timeout(20_000);
  let balancer: RunningBalancer;
  let slow: RunningSampleService;
  let adminUrl: string;
  let url: string;
  const deadTarget = "http://127.0.0.1:1";

  before(async () => {
    slow = await startSampleService({
      version: "slow",
      host: "127.0.0.1",
      port: 0,
      errorRate: 0,
      latencyMs: 1000,
    });
    balancer = await startBalancer({
      host: "127.0.0.1",
      metricsIntervalMs: 60_000,
      port: 0,
      adminPort: 0,
      healthCheck: {
        intervalMs: 60_000,
        timeoutMs: 1000,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
      },
      maxAttempts: 3,
      targetTimeoutMs: 200,
    });
    adminUrl = `http://127.0.0.1:${balancer.adminPort}`;
    url = `http://127.0.0.1:${balancer.port}/`;
  });
  after(async () => {
    await balancer.close(0);
    await slow.close(0);
  });

  async function totals(id: string) {
    const { body } = await requestJson("GET", `${adminUrl}/metrics`);
    return (body as MetricsView).targetGroups[id].totals;
  }

  it("answers 504 when a target does not answer in time, counted as a balancer 5xx", async () => {
    await requestJson("PUT", `${adminUrl}/config`, {
      groups: [{ id: "slow", weight: 1, targets: [`http://127.0.0.1:${slow.port}`] }],
    });
    expect(await request(url, "GET")).to.equal(504);
    expect(await totals("slow")).to.include({ requests: 1, errors5xx: 0, balancerErrors5xx: 1 });
  });

  it("answers 502 for a request with a body whose target refuses it, without retrying", async () => {
    await requestJson("PUT", `${adminUrl}/config`, {
      groups: [{ id: "dead", weight: 1, targets: [deadTarget] }],
    });
    expect(await request(url, "POST")).to.equal(502);
    expect(await totals("dead")).to.include({ requests: 1, balancerErrors5xx: 1 });
  });
});
