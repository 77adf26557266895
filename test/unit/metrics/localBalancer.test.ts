import { expect } from "chai";
import * as http from "http";
import { AddressInfo } from "net";
import { MetricsView } from "../../../infra/local/admin-api";
import { TrafficMetrics } from "../../../infra/local/traffic-metrics";
import {
  BalancerMetrics,
  BalancerMinute,
  intervalsFromBalancer,
  LocalBalancerMetricsSource,
} from "../../../automation/metrics/local";
import { MetricsWindow } from "../../../automation/metrics/source";

const MIN = 60_000;
/** 2030-01-01T10:00:00Z, a minute boundary. */
const T0 = Date.UTC(2030, 0, 1, 10, 0, 0);
const at = (minute: number) => T0 + minute * MIN;
const GROUPS = { blue: "tg-blue", green: "tg-green" };

function minute(
  m: number,
  requests: number,
  errors5xx: number,
  balancerErrors5xx: number,
  p99: number | null,
): BalancerMinute {
  return {
    start: new Date(at(m)).toISOString(),
    requests,
    errors5xx,
    balancerErrors5xx,
    latencyMs: p99 === null ? null : { p50: p99 / 4, p90: p99 / 2, p99 },
  };
}

/**
 * Blue serves minutes 0-3 (3 the current, partial one); green only minutes 1 and 3.
 * Blue's minute 0 has 2 target 5xx and 1 the balancer answered itself; minute 1 no latency.
 */
const METRICS: BalancerMetrics = {
  targetGroups: {
    "tg-blue": {
      minutes: [
        minute(0, 100, 2, 1, 120),
        minute(1, 90, 0, 0, null),
        minute(2, 80, 1, 0, 95.5),
        minute(3, 40, 0, 0, 60),
      ],
    },
    "tg-green": {
      minutes: [minute(1, 10, 1, 0, 200), minute(3, 5, 0, 5, null)],
    },
    "tg-other": { minutes: [minute(2, 999, 999, 0, 1)] },
  },
};

const window = (
  from: number,
  to: number,
  stableColor: "blue" | "green" = "blue",
): MetricsWindow => ({
  from,
  to,
  stableColor,
  canaryColor: stableColor === "blue" ? "green" : "blue",
});

describe("intervalsFromBalancer", () => {
  it("maps the stable and canary groups by colour, adds the balancer's own 5xx to errors, takes p99", () => {
    expect(
      intervalsFromBalancer(METRICS, GROUPS, window(at(0), at(3) + 20_000), MIN),
    ).to.deep.equal([
      {
        start: at(0),
        stable: { requests: 100, errors: 3, p99Ms: 120 },
        canary: { requests: 0 },
      },
      {
        start: at(1),
        stable: { requests: 90, errors: 0 },
        canary: { requests: 10, errors: 1, p99Ms: 200 },
      },
      {
        start: at(2),
        stable: { requests: 80, errors: 1, p99Ms: 95.5 },
        canary: { requests: 0 },
      },
    ]);
  });

  it("swaps the samples when green is the stable colour", () => {
    const intervals = intervalsFromBalancer(METRICS, GROUPS, window(at(0), at(3), "green"), MIN);
    expect(intervals).to.deep.equal([
      { start: at(0), stable: { requests: 0 }, canary: { requests: 100, errors: 3, p99Ms: 120 } },
      {
        start: at(1),
        stable: { requests: 10, errors: 1, p99Ms: 200 },
        canary: { requests: 90, errors: 0 },
      },
      { start: at(2), stable: { requests: 0 }, canary: { requests: 80, errors: 1, p99Ms: 95.5 } },
    ]);
  });

  it("keeps a minute once it has ended by the window's end, not before", () => {
    const starts = (to: number) =>
      intervalsFromBalancer(METRICS, GROUPS, window(at(0), to), MIN).map((i) => i.start);
    expect(starts(at(4) - 1)).to.deep.equal([at(0), at(1), at(2)]);
    expect(starts(at(4))).to.deep.equal([at(0), at(1), at(2), at(3)]);
    expect(intervalsFromBalancer(METRICS, GROUPS, window(at(0), at(4)), MIN)[3]).to.deep.equal({
      start: at(3),
      stable: { requests: 40, errors: 0, p99Ms: 60 },
      canary: { requests: 5, errors: 5 },
    });
    expect(starts(at(0) + MIN - 1)).to.deep.equal([]);
  });

  it("starts at the window's start, inclusive", () => {
    const starts = (from: number) =>
      intervalsFromBalancer(METRICS, GROUPS, window(from, at(3)), MIN).map((i) => i.start);
    expect(starts(at(1))).to.deep.equal([at(1), at(2)]);
    expect(starts(at(1) - 1)).to.deep.equal([at(1), at(2)]);
    expect(starts(at(1) + 1)).to.deep.equal([at(2)]);
  });

  it("sorts minutes by time whatever the order they come in", () => {
    const shuffled: BalancerMetrics = {
      targetGroups: {
        "tg-blue": { minutes: [minute(2, 3, 0, 0, 1), minute(0, 1, 0, 0, 1)] },
        "tg-green": { minutes: [minute(1, 2, 0, 0, 1)] },
      },
    };
    expect(
      intervalsFromBalancer(shuffled, GROUPS, window(at(0), at(3)), MIN).map((i) => i.start),
    ).to.deep.equal([at(0), at(1), at(2)]);
  });

  it("gives requests 0 for a group the balancer does not report", () => {
    const onlyBlue: BalancerMetrics = {
      targetGroups: { "tg-blue": { minutes: [minute(0, 7, 0, 0, 5)] } },
    };
    expect(intervalsFromBalancer(onlyBlue, GROUPS, window(at(0), at(1)), MIN)).to.deep.equal([
      { start: at(0), stable: { requests: 7, errors: 0, p99Ms: 5 }, canary: { requests: 0 } },
    ]);
    expect(
      intervalsFromBalancer({ targetGroups: {} }, GROUPS, window(at(0), at(5)), MIN),
    ).to.deep.equal([]);
  });
});

interface AdminServer {
  url: string;
  paths: string[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 standing in for the balancer's admin API. */
async function admin(answer: () => { status: number; json: unknown }): Promise<AdminServer> {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    const a = answer();
    res.writeHead(a.status, { "content-type": "application/json" }).end(JSON.stringify(a.json));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("LocalBalancerMetricsSource", () => {
  const servers: AdminServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  const start = async (answer: () => { status: number; json: unknown }) => {
    const s = await admin(answer);
    servers.push(s);
    return s;
  };

  it("reads GET /metrics of the admin URL and maps it", async () => {
    const view = { generatedAt: new Date(at(3) + 20_000).toISOString(), ...METRICS };
    const s = await start(() => ({ status: 200, json: view }));
    const source = new LocalBalancerMetricsSource(s.url, GROUPS, MIN);
    expect(source.description).to.equal(`local balancer ${s.url}/metrics`);
    const intervals = await source.intervals(window(at(1), at(3) + 20_000));
    expect(s.paths).to.deep.equal(["GET /metrics"]);
    expect(intervals).to.deep.equal([
      {
        start: at(1),
        stable: { requests: 90, errors: 0 },
        canary: { requests: 10, errors: 1, p99Ms: 200 },
      },
      {
        start: at(2),
        stable: { requests: 80, errors: 1, p99Ms: 95.5 },
        canary: { requests: 0 },
      },
    ]);
  });

  it("reads what the balancer's own traffic metrics report", async () => {
    const traffic = new TrafficMetrics();
    traffic.ensureGroup("tg-blue", at(0));
    traffic.ensureGroup("tg-green", at(0));
    for (let i = 0; i < 9; i++)
      traffic.record("tg-blue", at(0) + 1000 * i, { status: 200, latencyMs: 10 + i });
    traffic.record("tg-blue", at(0) + 9000, { status: 500, latencyMs: 3 });
    traffic.record("tg-green", at(0) + 2000, { status: 200, latencyMs: 40 });
    traffic.record("tg-green", at(0) + 3000, { status: 502 });
    traffic.record("tg-blue", at(2) + 5000, { status: 200, latencyMs: 11 });
    const view: MetricsView = {
      generatedAt: new Date(at(2) + 6000).toISOString(),
      targetGroups: traffic.snapshot(),
      intervalMs: MIN,
      loadBalancer: traffic.loadBalancerSnapshot(),
    };
    const s = await start(() => ({ status: 200, json: view }));
    const source = new LocalBalancerMetricsSource(s.url, GROUPS, MIN);
    expect(await source.intervals(window(at(0), at(2) + 6000))).to.deep.equal([
      {
        start: at(0),
        stable: { requests: 10, errors: 1, p99Ms: 18 },
        canary: { requests: 2, errors: 1, p99Ms: 40 },
      },
    ]);
  });

  it("fails with the status when the admin API does not answer 2xx", async () => {
    const s = await start(() => ({ status: 503, json: { error: "starting" } }));
    const source = new LocalBalancerMetricsSource(s.url, GROUPS, MIN);
    let error: unknown;
    try {
      await source.intervals(window(at(0), at(3)));
    } catch (err) {
      error = err;
    }
    expect((error as Error).message).to.equal(`GET ${s.url}/metrics answered 503`);
  });

  it("fails when nothing listens at the admin URL", async () => {
    const s = await start(() => ({ status: 200, json: METRICS }));
    await s.close();
    servers.length = 0;
    const source = new LocalBalancerMetricsSource(s.url, GROUPS, MIN);
    let error: unknown;
    try {
      await source.intervals(window(at(0), at(3)));
    } catch (err) {
      error = err;
    }
    expect((error as Error).message).to.equal("fetch failed");
  });
});
