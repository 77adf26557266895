import { expect } from "chai";
import { TrafficMetrics } from "../../../infra/local/traffic-metrics";

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

  it("counts requests, target 5xx and balancer 5xx per group and minute, with running totals", () => {
    const m = new TrafficMetrics();
    m.record("blue", T0 + 1000, { status: 200, latencyMs: 2 });
    m.record("blue", T0 + 2000, { status: 500, latencyMs: 4 });
    m.record("blue", T0 + 3000, { status: 502 });
    m.record("blue", T0 + 61_000, { status: 404, latencyMs: 1 });
    m.record("green", T0 + 5000, { status: 503, latencyMs: 3 });
    const snap = m.snapshot();

    expect(snap.blue.totals).to.deep.equal({
      since: new Date(T0 + 1000).toISOString(),
      requests: 4,
      errors5xx: 1,
      balancerErrors5xx: 1,
    });
    expect(snap.blue.minutes).to.deep.equal([
      {
        start: "2030-01-01T10:00:00.000Z",
        requests: 3,
        errors5xx: 1,
        balancerErrors5xx: 1,
        latencyMs: { p50: 2, p90: 4, p99: 4 },
      },
      {
        start: "2030-01-01T10:01:00.000Z",
        requests: 1,
        errors5xx: 0,
        balancerErrors5xx: 0,
        latencyMs: { p50: 1, p90: 1, p99: 1 },
      },
    ]);
    expect(snap.green.totals.errors5xx).to.equal(1);
  });

  it("computes p50/p90/p99 per minute by nearest rank", () => {
    const m = new TrafficMetrics();
    for (let i = 1; i <= 1000; i++) m.record("g", T0 + i, { status: 200, latencyMs: i / 10 });
    expect(m.snapshot().g.minutes[0].latencyMs).to.deep.equal({ p50: 50, p90: 90, p99: 99 });
  });

  it("reports a minute whose requests all failed at the balancer without latency", () => {
    const m = new TrafficMetrics();
    m.record("g", T0, { status: 502 });
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
        balancerErrors5xx: 0,
      },
      minutes: [],
    });
  });

  it("keeps only the last `retainMinutes` minutes but all-time totals", () => {
    const m = new TrafficMetrics({ retainMinutes: 2 });
    for (let minute = 0; minute < 5; minute++) {
      m.record("g", T0 + minute * 60_000, { status: 200, latencyMs: 1 });
    }
    const snap = m.snapshot().g;
    expect(snap.minutes.map((b) => b.start)).to.deep.equal([
      "2030-01-01T10:03:00.000Z",
      "2030-01-01T10:04:00.000Z",
    ]);
    expect(snap.totals.requests).to.equal(5);
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
