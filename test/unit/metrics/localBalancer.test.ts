import { expect } from "chai";
import * as http from "http";
import { AddressInfo } from "net";
import {
  BalancerGroupInterval,
  BalancerMetrics,
  intervalsFromBalancer,
  LocalBalancerMetricsReader,
  LocalMetricsError,
  LocalOutput,
} from "../../../automation/metrics/local";
import { MetricsWindow } from "../../../automation/metrics/reader";

const MIN = 60_000;
/** 2030-01-01T10:00:00Z, a minute boundary. */
const T0 = Date.UTC(2030, 0, 1, 10, 0, 0);
const at = (minute: number) => T0 + minute * MIN;
const iso = (minute: number) => new Date(at(minute)).toISOString();
const GROUPS = { blue: "tg-blue", green: "tg-green" };

function minute(
  m: number,
  requests: number,
  errors5xx: number,
  p99: number | null,
  more: Partial<
    Pick<BalancerGroupInterval, "connectionErrors" | "unhealthyHosts" | "healthyHosts">
  > = {},
): BalancerGroupInterval {
  return {
    start: iso(m),
    requests,
    errors5xx,
    connectionErrors: 0,
    unhealthyHosts: 0,
    healthyHosts: 2,
    latencyMs: p99 === null ? null : { p50: p99 / 4, p90: p99 / 2, p99 },
    ...more,
  };
}

function view(
  groups: Record<string, BalancerGroupInterval[]>,
  balancer: [minute: number, errors5xx: number][] = [],
  intervalMs = MIN,
): BalancerMetrics {
  const targetGroups: BalancerMetrics["targetGroups"] = {};
  for (const [id, minutes] of Object.entries(groups)) {
    targetGroups[id] = {
      totals: {
        since: iso(0),
        requests: minutes.reduce((n, m) => n + m.requests, 0),
        errors5xx: minutes.reduce((n, m) => n + m.errors5xx, 0),
        connectionErrors: minutes.reduce((n, m) => n + m.connectionErrors, 0),
      },
      minutes,
    };
  }
  return {
    generatedAt: new Date(at(3) + 20_000).toISOString(),
    intervalMs,
    targetGroups,
    loadBalancer: {
      totals: { since: iso(0), errors5xx: balancer.reduce((n, [, e]) => n + e, 0) },
      minutes: balancer.map(([m, errors5xx]) => ({ start: iso(m), errors5xx })),
    },
  };
}

/**
 * Blue serves minutes 0-3 (3 the current, partial one); green only minutes 1 and 3, and in
 * minute 3 one of its two hosts is down and 4 connections to it failed. The balancer answered
 * 5xx itself in minutes 0 (1) and 3 (5), and in minute 4 (no group served then).
 */
const METRICS: BalancerMetrics = view(
  {
    "tg-blue": [
      minute(0, 100, 2, 120),
      minute(1, 90, 0, null),
      minute(2, 80, 1, 95.5),
      minute(3, 40, 0, 60),
    ],
    "tg-green": [
      minute(1, 10, 1, 200),
      minute(3, 5, 0, null, { connectionErrors: 4, unhealthyHosts: 1, healthyHosts: 1 }),
    ],
    "tg-other": [minute(2, 999, 999, 1)],
  },
  [
    [0, 1],
    [3, 5],
    [4, 7],
  ],
);

const HOSTS = { connectionErrors: 0, unhealthyHosts: 0, healthyHosts: 2 };

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
  it("maps the groups by colour with their target 5xx, connection errors, hosts and p99, and the balancer's own 5xx apart", () => {
    expect(
      intervalsFromBalancer(METRICS, GROUPS, window(at(0), at(3) + 20_000), MIN),
    ).to.deep.equal([
      {
        start: at(0),
        stable: { requests: 100, errors: 2, p99Ms: 120, ...HOSTS },
        canary: { requests: 0 },
        balancerErrors: 1,
      },
      {
        start: at(1),
        stable: { requests: 90, errors: 0, ...HOSTS },
        canary: { requests: 10, errors: 1, p99Ms: 200, ...HOSTS },
      },
      {
        start: at(2),
        stable: { requests: 80, errors: 1, p99Ms: 95.5, ...HOSTS },
        canary: { requests: 0 },
      },
    ]);
  });

  it("swaps the samples when green is the stable colour; the balancer's 5xx stay the interval's", () => {
    const intervals = intervalsFromBalancer(METRICS, GROUPS, window(at(0), at(4), "green"), MIN);
    expect(intervals).to.deep.equal([
      {
        start: at(0),
        stable: { requests: 0 },
        canary: { requests: 100, errors: 2, p99Ms: 120, ...HOSTS },
        balancerErrors: 1,
      },
      {
        start: at(1),
        stable: { requests: 10, errors: 1, p99Ms: 200, ...HOSTS },
        canary: { requests: 90, errors: 0, ...HOSTS },
      },
      {
        start: at(2),
        stable: { requests: 0 },
        canary: { requests: 80, errors: 1, p99Ms: 95.5, ...HOSTS },
      },
      {
        start: at(3),
        stable: { requests: 5, errors: 0, connectionErrors: 4, unhealthyHosts: 1, healthyHosts: 1 },
        canary: { requests: 40, errors: 0, p99Ms: 60, ...HOSTS },
        balancerErrors: 5,
      },
    ]);
  });

  it("keeps an interval in which only the balancer answered (a group without targets gets its 503s)", () => {
    expect(intervalsFromBalancer(METRICS, GROUPS, window(at(4), at(5)), MIN)).to.deep.equal([
      { start: at(4), stable: { requests: 0 }, canary: { requests: 0 }, balancerErrors: 7 },
    ]);
  });

  it("keeps a minute once it has ended by the window's end, not before", () => {
    const starts = (to: number) =>
      intervalsFromBalancer(METRICS, GROUPS, window(at(0), to), MIN).map((i) => i.start);
    expect(starts(at(4) - 1)).to.deep.equal([at(0), at(1), at(2)]);
    expect(starts(at(4))).to.deep.equal([at(0), at(1), at(2), at(3)]);
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
    const shuffled = view(
      { "tg-blue": [minute(2, 3, 0, 1), minute(0, 1, 0, 1)], "tg-green": [minute(1, 2, 0, 1)] },
      [[3, 1]],
    );
    expect(
      intervalsFromBalancer(shuffled, GROUPS, window(at(0), at(4)), MIN).map((i) => i.start),
    ).to.deep.equal([at(0), at(1), at(2), at(3)]);
  });

  it("gives requests 0 for a group the balancer does not report", () => {
    const onlyBlue = view({ "tg-blue": [minute(0, 7, 0, 5)] });
    expect(intervalsFromBalancer(onlyBlue, GROUPS, window(at(0), at(1)), MIN)).to.deep.equal([
      {
        start: at(0),
        stable: { requests: 7, errors: 0, p99Ms: 5, ...HOSTS },
        canary: { requests: 0 },
      },
    ]);
    expect(intervalsFromBalancer(view({}), GROUPS, window(at(0), at(5)), MIN)).to.deep.equal([]);
  });

  it("reads a balancer that predates the new fields as before, without adding its own 5xx to a group", () => {
    const old = {
      generatedAt: iso(2),
      targetGroups: {
        "tg-blue": {
          minutes: [
            { start: iso(0), requests: 50, errors5xx: 1, balancerErrors5xx: 3, latencyMs: null },
          ],
        },
      },
    };
    expect(intervalsFromBalancer(old, GROUPS, window(at(0), at(1)), MIN)).to.deep.equal([
      { start: at(0), stable: { requests: 50, errors: 1 }, canary: { requests: 0 } },
    ]);
  });

  it("refuses what it cannot read, in one line naming the field and the value", () => {
    const bad = (mutate: (m: BalancerMetrics) => void) => {
      const copy = JSON.parse(JSON.stringify(METRICS)) as BalancerMetrics;
      mutate(copy);
      return () => intervalsFromBalancer(copy, GROUPS, window(at(0), at(4)), MIN);
    };
    expect(
      bad((m) => {
        m.targetGroups["tg-green"].minutes[0].connectionErrors = -1;
      }),
    ).to.throw(
      LocalMetricsError,
      'targetGroups["tg-green"].minutes[0].connectionErrors must be a finite number >= 0, got -1',
    );
    expect(
      bad((m) => {
        m.targetGroups["tg-blue"].minutes[1].errors5xx = 91;
      }),
    ).to.throw(
      'targetGroups["tg-blue"].minutes[1].errors5xx must be at most requests (90), got 91',
    );
    expect(
      bad((m) => {
        m.loadBalancer.minutes[1].start = "2030-01-01T10:03:30.000Z";
      }),
    ).to.throw(
      'loadBalancer.minutes[1].start must be an ISO time on a 60000 ms boundary, got "2030-01-01T10:03:30.000Z"',
    );
    expect(
      bad((m) => {
        m.intervalMs = 10_000;
      }),
    ).to.throw("the balancer's metrics have intervalMs 10000, but the stack outputs say 60000");
    expect(() => intervalsFromBalancer([], GROUPS, window(at(0), at(4)), MIN)).to.throw(
      "the balancer's metrics must be an object with targetGroups, got []",
    );
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

/** The stack output of a local stack whose balancer answers at `adminUrl`. */
const output = (adminUrl: string, intervalMs: number): LocalOutput => ({
  kind: "local",
  intervalSeconds: intervalMs / 1000,
  settleSeconds: 0,
  adminUrl,
  targetGroupArnSuffixes: GROUPS,
});

describe("LocalBalancerMetricsReader", () => {
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
    const s = await start(() => ({ status: 200, json: METRICS }));
    const source = new LocalBalancerMetricsReader(output(s.url, MIN));
    expect(source.description).to.equal(`local balancer ${s.url}/metrics`);
    const intervals = await source.intervals(window(at(1), at(4) + 20_000));
    expect(s.paths).to.deep.equal(["GET /metrics"]);
    expect(intervals).to.deep.equal([
      {
        start: at(1),
        stable: { requests: 90, errors: 0, ...HOSTS },
        canary: { requests: 10, errors: 1, p99Ms: 200, ...HOSTS },
      },
      {
        start: at(2),
        stable: { requests: 80, errors: 1, p99Ms: 95.5, ...HOSTS },
        canary: { requests: 0 },
      },
      {
        start: at(3),
        stable: { requests: 40, errors: 0, p99Ms: 60, ...HOSTS },
        canary: { requests: 5, errors: 0, connectionErrors: 4, unhealthyHosts: 1, healthyHosts: 1 },
        balancerErrors: 5,
      },
    ]);
  });

  it("reads 10 s intervals when the stack outputs say so", async () => {
    const TEN = 10_000;
    const s = await start(() => ({
      status: 200,
      json: view(
        {
          "tg-blue": [{ ...minute(0, 30, 0, 12), start: new Date(at(0) + TEN).toISOString() }],
          "tg-green": [],
        },
        [],
        TEN,
      ),
    }));
    const source = new LocalBalancerMetricsReader(output(s.url, TEN));
    expect(await source.intervals(window(at(0), at(0) + 2 * TEN))).to.deep.equal([
      {
        start: at(0) + TEN,
        stable: { requests: 30, errors: 0, p99Ms: 12, ...HOSTS },
        canary: { requests: 0 },
      },
    ]);
  });

  it("names the URL when the answer cannot be read", async () => {
    const s = await start(() => ({ status: 200, json: { ...METRICS, intervalMs: 10_000 } }));
    const source = new LocalBalancerMetricsReader(output(s.url, MIN));
    const error = await source.intervals(window(at(0), at(3))).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(LocalMetricsError);
    expect((error as Error).message).to.equal(
      `GET ${s.url}/metrics: the balancer's metrics have intervalMs 10000, ` +
        "but the stack outputs say 60000: run `pulumi up` to bring them in line",
    );
  });

  it("fails with the status when the admin API does not answer 2xx", async () => {
    const s = await start(() => ({ status: 503, json: { error: "starting" } }));
    const source = new LocalBalancerMetricsReader(output(s.url, MIN));
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
    const source = new LocalBalancerMetricsReader(output(s.url, MIN));
    let error: unknown;
    try {
      await source.intervals(window(at(0), at(3)));
    } catch (err) {
      error = err;
    }
    expect((error as Error).message).to.equal("fetch failed");
  });
});
