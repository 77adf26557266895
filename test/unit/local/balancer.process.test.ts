import { expect } from "chai";
import type { MetricsView, RuleView } from "../../../infra/local/balancer/adminApi";
import { isRunning } from "../../../infra/local/providers/childProcesses";
import { requestJson } from "../../../infra/local/shared/httpJson";
import { LocalBalancerMetricsReader } from "../../../automation/metrics/local";
import { ProcessPool, putRule } from "./support/processPool";
import { sendRequests, sleep, startTraffic } from "./support/trafficClient";

async function config(adminUrl: string): Promise<RuleView> {
  const { status, body } = await requestJson("GET", `${adminUrl}/config`);
  expect(status).to.equal(200);
  return body as RuleView;
}

async function metrics(adminUrl: string): Promise<MetricsView> {
  const { status, body } = await requestJson("GET", `${adminUrl}/metrics`);
  expect(status).to.equal(200);
  return body as MetricsView;
}

describe("local load balancer (real processes)", function () {
  this.timeout(60_000);
  const pool = new ProcessPool();
  let blue: string[];
  let green: string[];
  let lb: Awaited<ReturnType<ProcessPool["balancer"]>>;

  before(async () => {
    const services = await Promise.all([
      pool.service("blue-1"),
      pool.service("blue-1"),
      pool.service("green-1"),
      pool.service("green-1"),
    ]);
    blue = services.slice(0, 2).map((s) => s.url);
    green = services.slice(2).map((s) => s.url);
    lb = await pool.balancer();
  });
  after(() => pool.stopAll());

  it("answers 503 before it has a rule, counted as the load balancer's own 5xx", async () => {
    const tally = await sendRequests(lb.url, 5, 5000, 1);
    expect(tally.byStatus).to.deep.equal({ "503": 5 });
    const view = await metrics(lb.adminUrl);
    expect(view.targetGroups).to.deep.equal({});
    expect(view.loadBalancer.totals.errors5xx).to.equal(5);
    expect(view.loadBalancer.minutes.reduce((sum, m) => sum + m.errors5xx, 0)).to.equal(5);
  });

  it("splits requests exactly by weight and round-robins within a group", async () => {
    const put = await putRule(lb.adminUrl, [
      { id: "tg/blue", weight: 70, targets: blue },
      { id: "tg/green", weight: 30, targets: green },
    ]);
    expect(put.status).to.equal(200);
    const tally = await sendRequests(lb.url, 1000);
    expect(tally.failures).to.deep.equal([]);
    expect(tally.byVersion).to.deep.equal({ "blue-1": 700, "green-1": 300 });
  });

  it("applies a weight change in place, without restarting or failing a request", async () => {
    const traffic = startTraffic(lb.url, { maxRequests: 20_000, maxMs: 20_000 });
    await sleep(300);
    for (const weights of [
      [0, 100],
      [100, 0],
      [50, 50],
    ]) {
      const put = await putRule(lb.adminUrl, [
        { id: "tg/blue", weight: weights[0], targets: blue },
        { id: "tg/green", weight: weights[1], targets: green },
      ]);
      expect(put.status).to.equal(200);
      expect((put.body as RuleView).groups.map((g) => g.weight)).to.deep.equal(weights);
      await sleep(200);
    }
    const tally = await traffic.stop();
    expect(tally.failures).to.deep.equal([]);
    expect(Object.keys(tally.byStatus)).to.deep.equal(["200"]);
    expect(tally.sent).to.be.greaterThan(100);
    expect(isRunning(lb.proc.pid, lb.proc.token)).to.equal(true);
    const after = await sendRequests(lb.url, 100);
    expect(after.byVersion).to.deep.equal({ "blue-1": 50, "green-1": 50 });
  });

  it("refuses an invalid rule with a message and keeps the rule it had", async () => {
    const before = await config(lb.adminUrl);
    const put = await putRule(lb.adminUrl, [{ id: "tg/blue", weight: 1000, targets: blue }]);
    expect(put.status).to.equal(400);
    expect((put.body as { error: string }).error).to.match(/groups\[0\]\.weight .* 0 to 999/);
    expect(await config(lb.adminUrl)).to.deep.equal(before);
    const notJson = await requestJson("GET", `${lb.adminUrl}/nope`);
    expect(notJson.status).to.equal(404);
  });

  it("gives a group without targets its share as 503s, counted at the load balancer only", async () => {
    await putRule(lb.adminUrl, [
      { id: "tg/blue", weight: 70, targets: blue },
      { id: "tg/empty", weight: 30, targets: [] },
    ]);
    const before = await metrics(lb.adminUrl);
    const tally = await sendRequests(lb.url, 1000);
    const after = await metrics(lb.adminUrl);
    expect(tally.failures).to.deep.equal([]);
    expect(tally.byStatus).to.deep.equal({ "200": 700, "503": 300 });
    expect(tally.byVersion["blue-1"]).to.equal(700);
    expect(after.loadBalancer.totals.errors5xx - before.loadBalancer.totals.errors5xx).to.equal(
      300,
    );
    expect(after.targetGroups["tg/empty"]).to.deep.equal({
      totals: {
        ...after.targetGroups["tg/empty"].totals,
        requests: 0,
        errors5xx: 0,
        connectionErrors: 0,
      },
      minutes: [],
    });
  });

  it("answers 502 for a target that died until health checks take it out, without retrying", async () => {
    const spare = await pool.service("blue-1");
    await putRule(lb.adminUrl, [
      { id: "tg/blue", weight: 100, targets: [...blue, spare.url] },
      { id: "tg/green", weight: 0, targets: green },
    ]);
    const before = await metrics(lb.adminUrl);
    const traffic = startTraffic(lb.url, { maxRequests: 20_000, maxMs: 10_000 });
    await sleep(200);
    process.kill(spare.proc.pid, "SIGKILL");
    await sleep(600);
    const tally = await traffic.stop();
    const after = await metrics(lb.adminUrl);
    expect(tally.failures).to.deep.equal([]);
    expect(Object.keys(tally.byStatus).sort()).to.deep.equal(["200", "502"]);
    const failed = tally.byStatus["502"];
    const blueBefore = before.targetGroups["tg/blue"].totals;
    const blueAfter = after.targetGroups["tg/blue"].totals;
    expect(blueAfter.requests - blueBefore.requests).to.equal(tally.sent);
    expect(blueAfter.errors5xx - blueBefore.errors5xx).to.equal(0);
    // Every 502 is the balancer's; each connection the dead target refused is a connection error.
    expect(after.loadBalancer.totals.errors5xx - before.loadBalancer.totals.errors5xx).to.equal(
      failed,
    );
    const connectionErrors = blueAfter.connectionErrors - blueBefore.connectionErrors;
    expect(connectionErrors).to.be.within(1, failed);
    const latest = after.targetGroups["tg/blue"].minutes.at(-1);
    expect(latest).to.deep.include({ unhealthyHosts: 1, healthyHosts: 2 });

    const view = await config(lb.adminUrl);
    const targets = view.groups[0].targets;
    expect(targets.find((t) => t.url === spare.url)?.healthy).to.equal(false);
    expect(targets.filter((t) => t.healthy).map((t) => t.url)).to.deep.equal(blue);
    const afterHealthCheck = await sendRequests(lb.url, 100);
    expect(afterHealthCheck.byStatus).to.deep.equal({ "200": 100 });
  });

  it("switches to new targets and drains the old ones without failing a request", async () => {
    const fresh = await Promise.all([pool.service("green-2"), pool.service("green-2")]);
    const oldGreen = pool.started.filter((p) => green.includes(`http://127.0.0.1:${p.ports.port}`));
    const traffic = startTraffic(lb.url, { maxRequests: 20_000, maxMs: 10_000 });
    await putRule(lb.adminUrl, [
      { id: "tg/blue", weight: 50, targets: blue },
      { id: "tg/green", weight: 50, targets: green },
    ]);
    await sleep(300);
    await putRule(lb.adminUrl, [
      { id: "tg/blue", weight: 50, targets: blue },
      { id: "tg/green", weight: 50, targets: fresh.map((f) => f.url) },
    ]);
    await Promise.all(oldGreen.map((p) => pool.stop(p, 5000)));
    await sleep(300);
    const tally = await traffic.stop();
    expect(tally.failures).to.deep.equal([]);
    expect(Object.keys(tally.byStatus)).to.deep.equal(["200"]);
    expect(tally.byVersion["green-1"]).to.be.greaterThan(0);
    expect(tally.byVersion["green-2"]).to.be.greaterThan(0);
    green = fresh.map((f) => f.url);
  });

  it("fails open: a group whose targets all died keeps its share, as 502s, with its hosts unhealthy", async () => {
    const doomed = await Promise.all([pool.service("green-3"), pool.service("green-3")]);
    await putRule(lb.adminUrl, [
      { id: "tg/blue", weight: 70, targets: blue },
      { id: "tg/doomed", weight: 30, targets: doomed.map((d) => d.url) },
    ]);
    for (const d of doomed) process.kill(d.proc.pid, "SIGKILL");
    const deadline = Date.now() + 5000;
    while ((await config(lb.adminUrl)).groups[1].targets.some((t) => t.healthy)) {
      expect(Date.now()).to.be.below(deadline);
      await sleep(50);
    }
    const before = await metrics(lb.adminUrl);
    const tally = await sendRequests(lb.url, 1000);
    const after = await metrics(lb.adminUrl);
    expect(tally.failures).to.deep.equal([]);
    expect(tally.byStatus).to.deep.equal({ "200": 700, "502": 300 });
    expect(tally.byVersion["blue-1"]).to.equal(700);
    const doomedDelta = (key: "requests" | "errors5xx" | "connectionErrors") =>
      after.targetGroups["tg/doomed"].totals[key] - before.targetGroups["tg/doomed"].totals[key];
    expect(doomedDelta("requests")).to.equal(300);
    expect(doomedDelta("connectionErrors")).to.equal(300);
    expect(doomedDelta("errors5xx")).to.equal(0);
    expect(after.loadBalancer.totals.errors5xx - before.loadBalancer.totals.errors5xx).to.equal(
      300,
    );
    expect(after.targetGroups["tg/doomed"].minutes.at(-1)).to.deep.include({
      unhealthyHosts: 2,
      healthyHosts: 0,
    });
  });

  it("is read by the driver's metrics source as CloudWatch would report it: 502s at the load balancer, not the canary's 5xx", async () => {
    // The previous test left tg/doomed (all targets dead) at 30 % beside tg/blue.
    const source = new LocalBalancerMetricsReader({
      kind: "local",
      // The balancer's default interval: a minute.
      intervalSeconds: 60,
      settleSeconds: 0,
      adminUrl: lb.adminUrl,
      targetGroupArnSuffixes: { blue: "tg/blue", green: "tg/doomed" },
    });
    const intervals = await source.intervals({
      from: 0,
      // Take the interval still running too: this test reads counts, not settled verdicts.
      to: Date.now() + 120_000,
      stableColor: "blue",
      canaryColor: "green",
    });
    const sum = (f: (i: (typeof intervals)[number]) => number | undefined) =>
      intervals.reduce((n, i) => n + (f(i) ?? 0), 0);
    expect(sum((i) => i.canary.connectionErrors)).to.equal(300);
    expect(sum((i) => i.canary.errors)).to.equal(0);
    expect(sum((i) => i.canary.requests)).to.equal(300);
    expect(sum((i) => i.balancerErrors)).to.be.at.least(300);
    expect(intervals.at(-1)?.canary).to.deep.include({ unhealthyHosts: 2, healthyHosts: 0 });
  });

  it("counts requests, 5xx and latency per target group as a client saw them", async () => {
    const faulty = await Promise.all([
      pool.service("red-1", { errorRate: 0.2, latencyMs: 20 }),
      pool.service("red-1", { errorRate: 0.2, latencyMs: 20 }),
    ]);
    await putRule(lb.adminUrl, [
      { id: "tg/blue", weight: 50, targets: blue },
      { id: "tg/red", weight: 50, targets: faulty.map((f) => f.url) },
    ]);
    const before = await metrics(lb.adminUrl);
    const tally = await sendRequests(lb.url, 400, 30_000, 16);
    const after = await metrics(lb.adminUrl);
    expect(tally.failures).to.deep.equal([]);
    const delta = (id: string, key: "requests" | "errors5xx") =>
      after.targetGroups[id].totals[key] - (before.targetGroups[id]?.totals[key] ?? 0);
    expect(delta("tg/red", "requests")).to.equal(tally.byVersion["red-1"]).and.to.equal(200);
    expect(delta("tg/red", "errors5xx"))
      .to.equal(tally.errors5xxByVersion["red-1"])
      .and.to.equal(40);
    expect(delta("tg/blue", "requests")).to.equal(tally.byVersion["blue-1"]);
    expect(delta("tg/blue", "errors5xx")).to.equal(0);
    const redMinutes = after.targetGroups["tg/red"].minutes;
    expect(redMinutes.reduce((sum, m) => sum + m.requests, 0)).to.equal(200);
    const latest = redMinutes[redMinutes.length - 1];
    expect(latest.latencyMs?.p50).to.be.at.least(19);
    expect(latest.latencyMs?.p99).to.be.at.least(latest.latencyMs?.p50 ?? Infinity);
    expect(after.loadBalancer.totals.errors5xx).to.equal(before.loadBalancer.totals.errors5xx);
  });

  it("reports /metrics in exactly the agreed shape, with host counts of a group without requests", async () => {
    await putRule(lb.adminUrl, [
      { id: "tg/blue", weight: 1, targets: blue },
      { id: "tg/idle", weight: 0, targets: green },
    ]);
    await sleep(400);
    const view = await metrics(lb.adminUrl);
    expect(Object.keys(view)).to.deep.equal([
      "generatedAt",
      "intervalMs",
      "targetGroups",
      "loadBalancer",
    ]);
    expect(new Date(view.generatedAt).toISOString()).to.equal(view.generatedAt);
    expect(view.intervalMs).to.equal(60_000);
    const idle = view.targetGroups["tg/idle"];
    expect(Object.keys(idle.totals)).to.deep.equal([
      "since",
      "requests",
      "errors5xx",
      "connectionErrors",
    ]);
    // One interval, or two if the sleep crossed an interval's end: each with no request.
    expect(idle.minutes.length).to.be.within(1, 2);
    for (const minute of idle.minutes) {
      expect(minute).to.deep.equal({
        start: minute.start,
        requests: 0,
        errors5xx: 0,
        connectionErrors: 0,
        unhealthyHosts: 0,
        healthyHosts: 2,
        latencyMs: null,
      });
      expect(Date.parse(minute.start) % 60_000).to.equal(0);
      expect(Object.keys(minute)).to.deep.equal([
        "start",
        "requests",
        "errors5xx",
        "connectionErrors",
        "unhealthyHosts",
        "healthyHosts",
        "latencyMs",
      ]);
    }
    expect(Object.keys(view.loadBalancer.totals)).to.deep.equal(["since", "errors5xx"]);
    for (const m of view.loadBalancer.minutes) {
      expect(Object.keys(m)).to.deep.equal(["start", "errors5xx"]);
      expect(m.errors5xx).to.be.above(0);
    }
  });
});
