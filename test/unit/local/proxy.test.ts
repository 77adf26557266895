import { expect } from "chai";
import * as http from "http";
import * as net from "net";
import type { MetricsView } from "../../../infra/local/balancer/adminApi";
import { RunningBalancer, startBalancer } from "../../../infra/local/balancer/balancer";
import { requestJson } from "../../../infra/local/shared/httpJson";
import { endToEndHeaders } from "../../../infra/local/balancer/proxy";
import {
  RunningSampleService,
  startSampleService,
} from "../../../infra/local/sampleService/sampleService";

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

/** A loopback port nothing listens on (bound, then closed). */
async function refusingTarget(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

describe("proxy rules", () => {
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
  let good: RunningSampleService;
  let adminUrl: string;
  let url: string;

  before(async () => {
    const service = (version: string, latencyMs: number) =>
      startSampleService({ version, host: "127.0.0.1", port: 0, errorRate: 0, latencyMs });
    slow = await service("slow", 1000);
    good = await service("good", 0);
    balancer = await startBalancer({
      host: "127.0.0.1",
      metricsIntervalMs: 60_000,
      port: 0,
      adminPort: 0,
      // No health check round during these tests: health stays as registered (healthy).
      healthCheck: {
        intervalMs: 60_000,
        timeoutMs: 1000,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
      },
      targetTimeoutMs: 200,
    });
    adminUrl = `http://127.0.0.1:${balancer.adminPort}`;
    url = `http://127.0.0.1:${balancer.port}/`;
  });
  after(async () => {
    await balancer.close(0);
    await slow.close(0);
    await good.close(0);
  });

  async function metrics(): Promise<MetricsView> {
    const { body } = await requestJson("GET", `${adminUrl}/metrics`);
    return body as MetricsView;
  }

  async function put(groups: { id: string; weight: number; targets: string[] }[]) {
    const { status } = await requestJson("PUT", `${adminUrl}/config`, { groups });
    expect(status).to.equal(200);
  }

  /** Changes of the group's totals and of the load balancer's 5xx while `run` runs. */
  async function delta(id: string, run: () => Promise<void>) {
    const before = await metrics();
    await run();
    const after = await metrics();
    const was = before.targetGroups[id]?.totals ?? {
      requests: 0,
      errors5xx: 0,
      connectionErrors: 0,
    };
    const now = after.targetGroups[id].totals;
    return {
      requests: now.requests - was.requests,
      errors5xx: now.errors5xx - was.errors5xx,
      connectionErrors: now.connectionErrors - was.connectionErrors,
      balancer5xx: after.loadBalancer.totals.errors5xx - before.loadBalancer.totals.errors5xx,
    };
  }

  it("answers 504 when a target does not answer in time: a request of the group and a balancer 5xx", async () => {
    await put([{ id: "slow", weight: 1, targets: [`http://127.0.0.1:${slow.port}`] }]);
    const counted = await delta("slow", async () => {
      expect(await request(url, "GET")).to.equal(504);
    });
    expect(counted).to.deep.equal({
      requests: 1,
      errors5xx: 0,
      connectionErrors: 0,
      balancer5xx: 1,
    });
  });

  it("answers 502 once for a refused GET, without retrying on the group's other target", async () => {
    const dead = await refusingTarget();
    const alive = `http://127.0.0.1:${good.port}`;
    await put([{ id: "mixed", weight: 1, targets: [dead, alive] }]);
    const statuses: number[] = [];
    const counted = await delta("mixed", async () => {
      for (let i = 0; i < 4; i++) statuses.push(await request(url, "GET"));
    });
    // Round-robin over both (both still healthy: no health round ran): every other request fails.
    expect(statuses.sort()).to.deep.equal([200, 200, 502, 502]);
    expect(counted).to.deep.equal({
      requests: 4,
      errors5xx: 0,
      connectionErrors: 2,
      balancer5xx: 2,
    });
  });

  it("answers 502 for a request with a body whose target refuses it", async () => {
    await put([{ id: "dead", weight: 1, targets: [await refusingTarget()] }]);
    const counted = await delta("dead", async () => {
      expect(await request(url, "POST")).to.equal(502);
    });
    expect(counted).to.deep.equal({
      requests: 1,
      errors5xx: 0,
      connectionErrors: 1,
      balancer5xx: 1,
    });
  });

  it("answers 503 for the share of a group without targets: a balancer 5xx, not the group's", async () => {
    await put([
      { id: "good", weight: 1, targets: [`http://127.0.0.1:${good.port}`] },
      { id: "empty", weight: 1, targets: [] },
    ]);
    const before = await metrics();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push(await request(url, "GET"));
    const after = await metrics();
    expect(statuses.filter((s) => s === 503)).to.have.length(5);
    expect(statuses.filter((s) => s === 200)).to.have.length(5);
    expect(after.loadBalancer.totals.errors5xx - before.loadBalancer.totals.errors5xx).to.equal(5);
    expect(after.targetGroups.empty.totals).to.deep.include({ requests: 0, errors5xx: 0 });
    expect(after.targetGroups.empty.minutes).to.deep.equal([]);
    expect(
      after.targetGroups.good.totals.requests - (before.targetGroups.good?.totals.requests ?? 0),
    ).to.equal(5);
  });
});
