import { expect } from "chai";
import { TrafficMetrics } from "../../../infra/local/balancer/trafficMetrics";

const T0 = Date.parse("2030-01-01T10:00:00.000Z");

describe("TrafficMetrics", () => {
  it("buckets by the configured interval when shorter than a minute", () => {
    const m = new TrafficMetrics({ intervalMs: 10_000 });
    for (const at of [0, 9_999, 10_000, 25_000, 29_999]) m.record("blue", T0 + at, { status: 200 });
    expect(m.snapshot().blue.minutes.map((b) => [b.start, b.requests])).to.deep.equal([
      ["2030-01-01T10:00:00.000Z", 2],
      ["2030-01-01T10:00:10.000Z", 1],
      ["2030-01-01T10:00:20.000Z", 2],
    ]);
  });

  it("counts requests, target 5xx and connection errors per group, balancer 5xx at the load balancer", () => {
    const m = new TrafficMetrics({ nowMs: T0 });
    m.record("blue", T0 + 1000, { status: 200, latencyMs: 2 });
    m.record("blue", T0 + 2000, { status: 500, latencyMs: 4 });
    m.record("blue", T0 + 3000, { status: 502, connectionError: true });
    m.record("blue", T0 + 4000, { status: 504 });
    m.record("blue", T0 + 61_000, { status: 404, latencyMs: 1 });
    m.record("green", T0 + 5000, { status: 503, latencyMs: 3 });
    m.recordWithoutTarget(T0 + 121_000, 503);
    const snap = m.snapshot();

    expect(snap.blue.totals).to.deep.equal({
      since: new Date(T0 + 1000).toISOString(),
      requests: 5,
      errors5xx: 1,
      connectionErrors: 1,
    });
    expect(snap.blue.minutes).to.deep.equal([
      {
        start: "2030-01-01T10:00:00.000Z",
        requests: 4,
        errors5xx: 1,
        connectionErrors: 1,
        unhealthyHosts: 0,
        healthyHosts: 0,
        latencyMs: { p50: 2, p90: 4, p99: 4 },
      },
      {
        start: "2030-01-01T10:01:00.000Z",
        requests: 1,
        errors5xx: 0,
        connectionErrors: 0,
        unhealthyHosts: 0,
        healthyHosts: 0,
        latencyMs: { p50: 1, p90: 1, p99: 1 },
      },
    ]);
    // A 503 a target answered is the target's; one the balancer answered is its own.
    expect(snap.green.totals.errors5xx).to.equal(1);
    expect(Object.keys(snap)).to.deep.equal(["blue", "green"]);
    expect(m.loadBalancerSnapshot()).to.deep.equal({
      totals: { since: new Date(T0).toISOString(), errors5xx: 3 },
      minutes: [
        { start: "2030-01-01T10:00:00.000Z", errors5xx: 2 },
        { start: "2030-01-01T10:02:00.000Z", errors5xx: 1 },
      ],
    });
  });

  it("keeps the most unhealthy and fewest healthy hosts per interval, with a bucket without requests", () => {
    const m = new TrafficMetrics({ intervalMs: 10_000 });
    m.recordHosts("g", T0, { healthy: 2, unhealthy: 0 });
    m.recordHosts("g", T0 + 3000, { healthy: 1, unhealthy: 1 });
    m.recordHosts("g", T0 + 6000, { healthy: 0, unhealthy: 2 });
    m.recordHosts("g", T0 + 9000, { healthy: 2, unhealthy: 0 });
    m.recordHosts("g", T0 + 12_000, { healthy: 2, unhealthy: 0 });
    // A request that opens an interval before its first health round starts from the last counts.
    m.record("g", T0 + 21_000, { status: 200, latencyMs: 1 });
    m.recordHosts("g", T0 + 22_000, { healthy: 1, unhealthy: 1 });
    const hosts = m
      .snapshot()
      .g.minutes.map((b) => [b.start.slice(11, 19), b.requests, b.unhealthyHosts, b.healthyHosts]);
    expect(hosts).to.deep.equal([
      ["10:00:00", 0, 2, 0],
      ["10:00:10", 0, 0, 2],
      ["10:00:20", 1, 1, 1],
    ]);
    expect(m.snapshot().g.minutes[0].latencyMs).to.equal(null);
    expect(m.loadBalancerSnapshot().minutes).to.deep.equal([]);
  });

  it("computes p50/p90/p99 per minute by nearest rank", () => {
    const m = new TrafficMetrics();
    for (let i = 1; i <= 1000; i++) m.record("g", T0 + i, { status: 200, latencyMs: i / 10 });
    expect(m.snapshot().g.minutes[0].latencyMs).to.deep.equal({ p50: 50, p90: 90, p99: 99 });
  });

  it("reports a minute whose requests all failed at the balancer without latency", () => {
    const m = new TrafficMetrics();
    m.record("g", T0, { status: 502, connectionError: true });
    expect(m.snapshot().g.minutes[0].latencyMs).to.equal(null);
  });

  it("shows a group registered before its first request with zero totals and no minutes", () => {
    const m = new TrafficMetrics();
    m.ensureGroup("g", T0);
    m.ensureGroup("g", T0 + 5000);
    expect(m.snapshot().g).to.deep.equal({
      totals: {
        since: new Date(T0).toISOString(),
        requests: 0,
        errors5xx: 0,
        connectionErrors: 0,
      },
      minutes: [],
    });
  });

  it("keeps only the last `retainMinutes` minutes but all-time totals", () => {
    const m = new TrafficMetrics({ retainMinutes: 2 });
    for (let minute = 0; minute < 5; minute++) {
      m.record("g", T0 + minute * 60_000, { status: 200, latencyMs: 1 });
      m.recordWithoutTarget(T0 + minute * 60_000, 503);
    }
    const snap = m.snapshot().g;
    const last2 = ["2030-01-01T10:03:00.000Z", "2030-01-01T10:04:00.000Z"];
    expect(snap.minutes.map((b) => b.start)).to.deep.equal(last2);
    expect(snap.totals.requests).to.equal(5);
    const lb = m.loadBalancerSnapshot();
    expect(lb.minutes.map((b) => b.start)).to.deep.equal(last2);
    expect(lb.totals.errors5xx).to.equal(5);
  });

  it("keeps a bounded reservoir of latency samples but counts every request", () => {
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const m = new TrafficMetrics({ maxSamplesPerMinute: 100, random });
    for (let i = 0; i < 10_000; i++) m.record("g", T0, { status: 200, latencyMs: i % 100 });
    const minute = m.snapshot().g.minutes[0];
    expect(minute.requests).to.equal(10_000);
    expect(minute.latencyMs?.p50).to.be.within(35, 65);
    expect(minute.latencyMs?.p99).to.be.within(90, 99);
  });
});
