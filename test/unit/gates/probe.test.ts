import { expect } from "chai";
import * as http from "http";
import { AddressInfo } from "net";
import { StackOutputs } from "../../../infra/contract/outputs";
import { GateContext } from "../../../automation/release/ports";
import { answersWith, ProbeGate, probeService } from "../../../automation/gates/probe";
import { Step } from "../../../automation/release/plan";
import { ReleaseState } from "../../../automation/release/state";

const T0 = Date.UTC(2030, 0, 1, 10, 0, 0);
const greeting = (version: string) => `Hello World! Version: ${version}\n`;

interface Server {
  url: string;
  requests: number;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 answering the n-th request (from 0) with answer(n). */
async function serve(answer: (n: number) => { status: number; body: string } | null) {
  const state = { requests: 0 };
  const server = http.createServer((_req, res) => {
    const a = answer(state.requests++);
    if (a === null) return; // never answers
    res.writeHead(a.status, { "content-type": "text/plain" }).end(a.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const s: Server = {
    url: `http://127.0.0.1:${port}/`,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return s;
}

/** A URL on which nothing listens. */
async function closedUrl(): Promise<string> {
  const s = await serve(() => ({ status: 200, body: "" }));
  await s.close();
  return s.url;
}

/**
 * Every 10 requests: one 500, three from the new version 1.0.1, six from the stable 1.0.0:
 * 90 % success, a third of the successful answers from the new version.
 */
const MIXED = (n: number) => {
  const i = n % 10;
  if (i === 0) return { status: 500, body: "Injected error. Version: 1.0.1\n" };
  return { status: 200, body: greeting(i <= 3 ? "1.0.1" : "1.0.0") };
};

function context(url: string, weight: number, version = "1.0.1"): GateContext {
  const steps: Step[] = [
    { weight, bakeMs: 60_000 },
    { weight: 100, bakeMs: 0 },
  ];
  const release: ReleaseState = {
    id: "rel-1",
    version,
    previousVersion: "1.0.0",
    stableColor: "green",
    canaryColor: "blue",
    steps,
    gates: {
      manual: false,
      probe: { requests: 100, minSuccessRate: 0.85 },
      maxInconclusiveMs: 600_000,
      intervalMs: 15_000,
    },
    stepIndex: 0,
    phase: "gating",
    status: "running",
    stepStartedAt: T0,
    stepStarts: [T0],
    approvedSteps: [],
    scaleDownDelayMs: 60_000,
    startedAt: T0 - 60_000,
    updatedAt: T0,
    decisions: [],
  };
  const outputs = {
    platform: "local",
    url,
    canaryWeight: weight,
    stableColor: "green",
    canaryColor: "blue",
    weights: { blue: weight, green: 100 - weight },
  } as StackOutputs;
  return { release, step: steps[0], stepIndex: 0, outputs, now: T0 + 1000, elapsedMs: 1000 };
}

describe("answersWith", () => {
  const cases: [string, string, boolean][] = [
    [greeting("1.0.1"), "1.0.1", true],
    [greeting("1.0.10"), "1.0.1", false],
    [greeting("11.0.1"), "1.0.1", false],
    [greeting("1.0.1.2"), "1.0.1", false],
    [greeting("1.0.1-rc1"), "1.0.1", false],
    [greeting("1.0.1+build.7"), "1.0.1", false],
    [greeting("1.0.1-rc1"), "1.0.1-rc1", true],
    [greeting("1.0.1-rc10"), "1.0.1-rc1", false],
    [greeting("1x0y1"), "1.0.1", false],
    ["1.0.1", "1.0.1", true],
    ['{"version":"1.0.1"}', "1.0.1", true],
    ["Version: v2", "v2", true],
    ["Version: v20", "v2", false],
    ["built (a+b)*", "(a+b)*", true],
    ["", "1.0.1", false],
  ];
  for (const [body, version, expected] of cases) {
    it(`${JSON.stringify(body)} ${expected ? "is" : "is not"} an answer of ${version}`, () => {
      expect(answersWith(body, version)).to.equal(expected);
    });
  }
});

describe("probeService", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  it("counts answers below 500 as ok with their bodies, 5xx as failed", async () => {
    const statuses = [200, 404, 500, 503, 301];
    const s = await serve((n) => ({ status: statuses[n % 5], body: `answer ${n}` }));
    servers.push(s);
    const result = await probeService(s.url, 5, 2000);
    expect(result).to.deep.equal({
      ok: 3,
      failed: 2,
      bodies: ["answer 0", "answer 1", "answer 4"],
    });
    expect(s.requests).to.equal(5);
  });

  it("counts a request without an answer in time as failed", async () => {
    const s = await serve((n) => (n === 0 ? null : { status: 200, body: "late ok" }));
    servers.push(s);
    const started = Date.now();
    expect(await probeService(s.url, 2, 200)).to.deep.equal({
      ok: 1,
      failed: 1,
      bodies: ["late ok"],
    });
    expect(Date.now() - started).to.be.below(2000);
  });

  it("counts refused connections as failed", async () => {
    expect(await probeService(await closedUrl(), 3, 2000)).to.deep.equal({
      ok: 0,
      failed: 3,
      bodies: [],
    });
  });
});

describe("ProbeGate", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  const start = async (answer: Parameters<typeof serve>[0]) => {
    const s = await serve(answer);
    servers.push(s);
    return s;
  };

  it("passes at 90 % success (min 85 %) with a third of the answers from the new version at 25 %", async () => {
    const s = await start(MIXED);
    const gate = new ProbeGate({ requests: 100, minSuccessRate: 0.85 });
    expect(gate.name).to.equal("probe");
    const result = await gate.check(context(s.url, 25));
    expect(s.requests).to.equal(100);
    expect(result.verdict).to.equal("pass");
    expect(result.reason).to.equal(
      "90/100 ok (90.0%, min 85.0%), 33.3% from 1.0.1 (expected 25.0%)",
    );
    const details = result.details as Record<string, number>;
    expect(details).to.deep.include({
      requests: 100,
      ok: 90,
      failed: 10,
      successRate: 0.9,
      fromNew: 30,
      expected: 0.25,
    });
    expect(details.share).to.be.closeTo(1 / 3, 1e-12);
    // 4 standard deviations of a binomial share at 25 % over 90 answers, plus half an answer.
    expect(details.tolerance).to.be.closeTo(0.1881, 1e-4);
  });

  it("fails when the success rate is below the minimum", async () => {
    const s = await start(MIXED);
    const result = await new ProbeGate({ requests: 100, minSuccessRate: 0.95 }).check(
      context(s.url, 25),
    );
    expect(result.verdict).to.equal("fail");
    expect(result.reason).to.equal(
      "90/100 ok (90.0%, min 95.0%), 33.3% from 1.0.1 (expected 25.0%)",
    );
  });

  it("fails when the new version answers far more than its weight", async () => {
    const s = await start(MIXED);
    const result = await new ProbeGate({ requests: 100, minSuccessRate: 0.85 }).check(
      context(s.url, 10),
    );
    expect(result.verdict).to.equal("fail");
    expect(result.reason).to.equal(
      "90/100 ok (90.0%, min 85.0%), 33.3% from 1.0.1 (expected 10.0%): " +
        "the new version's share does not match the weight",
    );
  });

  it("fails when the new version answers far less than its weight", async () => {
    const s = await start(MIXED);
    const result = await new ProbeGate({ requests: 100, minSuccessRate: 0.85 }).check(
      context(s.url, 75),
    );
    expect(result.verdict).to.equal("fail");
    expect(result.reason).to.equal(
      "90/100 ok (90.0%, min 85.0%), 33.3% from 1.0.1 (expected 75.0%): " +
        "the new version's share does not match the weight",
    );
  });

  it("fails when the new version never answers, even at 1 %", async () => {
    const s = await start(() => ({ status: 200, body: greeting("1.0.0") }));
    const result = await new ProbeGate({ requests: 50, minSuccessRate: 0.99 }).check(
      context(s.url, 1),
    );
    expect(result.verdict).to.equal("fail");
    expect(result.reason).to.equal(
      "50/50 ok (100.0%, min 99.0%), 0.0% from 1.0.1 (expected 1.0%): " +
        "the new version's share does not match the weight",
    );
  });

  it("does not count the stable 1.0.10 as the new 1.0.1", async () => {
    const s = await start((n) => ({
      status: 200,
      body: greeting(n % 10 === 0 ? "1.0.1" : "1.0.10"),
    }));
    const result = await new ProbeGate({ requests: 100, minSuccessRate: 0.99 }).check(
      context(s.url, 10),
    );
    expect(result.verdict).to.equal("pass");
    expect(result.reason).to.equal(
      "100/100 ok (100.0%, min 99.0%), 10.0% from 1.0.1 (expected 10.0%)",
    );
  });

  it("does not count the stable 1.0.1-rc1 as the new 1.0.1", async () => {
    const s = await start((n) => ({
      status: 200,
      body: greeting(n % 10 === 0 ? "1.0.1" : "1.0.1-rc1"),
    }));
    const result = await new ProbeGate({ requests: 100, minSuccessRate: 0.99 }).check(
      context(s.url, 10),
    );
    expect(result.verdict).to.equal("pass");
    expect(result.reason).to.equal(
      "100/100 ok (100.0%, min 99.0%), 10.0% from 1.0.1 (expected 10.0%)",
    );
  });

  it("passes at 100 % only when every answer is from the new version", async () => {
    const all = await start(() => ({ status: 200, body: greeting("1.0.1") }));
    expect(
      (await new ProbeGate({ requests: 40, minSuccessRate: 0.99 }).check(context(all.url, 100)))
        .verdict,
    ).to.equal("pass");
    const oneOld = await start((n) => ({
      status: 200,
      body: greeting(n === 7 ? "1.0.0" : "1.0.1"),
    }));
    const result = await new ProbeGate({ requests: 40, minSuccessRate: 0.99 }).check(
      context(oneOld.url, 100),
    );
    expect(result.verdict).to.equal("fail");
    expect(result.reason).to.equal(
      "40/40 ok (100.0%, min 99.0%), 97.5% from 1.0.1 (expected 100.0%): " +
        "the new version's share does not match the weight",
    );
  });

  it("fails when the service cannot be reached", async () => {
    const result = await new ProbeGate({ requests: 5, minSuccessRate: 0.99 }).check(
      context(await closedUrl(), 10),
    );
    expect(result.verdict).to.equal("fail");
    expect(result.reason).to.equal("0/5 ok (0.0%, min 99.0%), 0.0% from 1.0.1 (expected 10.0%)");
  });
});

/** A real server that answers as the new version to requests with the header, else as stable. */
async function headerRouted(newAnswer: (n: number) => { status: number; body: string }) {
  let routed = 0;
  let plain = 0;
  const server = http.createServer((req, res) => {
    const a =
      req.headers["x-canary"] === "always"
        ? newAnswer(routed++)
        : { status: 200, body: greeting(`1.0.0 (plain ${plain++})`) };
    res.writeHead(a.status, { "content-type": "text/plain" }).end(a.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    counts: () => ({ routed, plain }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("ProbeGate with --probe-header", () => {
  const header = { name: "X-Canary", value: "always" };

  it("sends the header with every request and expects only the new version, at weight 0", async () => {
    const s = await headerRouted(() => ({ status: 200, body: greeting("1.0.1") }));
    try {
      const gate = new ProbeGate({ requests: 20, minSuccessRate: 0.99, header });
      expect(gate.preTraffic).to.equal(true);
      const result = await gate.check(context(s.url, 0));
      expect(result.verdict, result.reason).to.equal("pass");
      expect(result.reason).to.contain("with X-Canary: always");
      expect(s.counts()).to.deep.equal({ routed: 20, plain: 0 });
    } finally {
      await s.close();
    }
  });

  it("fails when the new version answers 500s through the header", async () => {
    const s = await headerRouted((n) =>
      n % 3 === 0
        ? { status: 500, body: "Injected error. Version: 1.0.1\n" }
        : { status: 200, body: greeting("1.0.1") },
    );
    try {
      const gate = new ProbeGate({ requests: 30, minSuccessRate: 0.99, header });
      const result = await gate.check(context(s.url, 0));
      expect(result.verdict).to.equal("fail");
      expect(result.reason).to.match(/^20\/30 ok with X-Canary: always \(66\.7%, min 99\.0%\)/);
    } finally {
      await s.close();
    }
  });

  it("fails, naming the setting, when the header does not reach the new version", async () => {
    const s = await headerRouted(() => ({ status: 200, body: greeting("1.0.0") }));
    try {
      const gate = new ProbeGate({ requests: 10, minSuccessRate: 0.99, header });
      const result = await gate.check(context(s.url, 50));
      expect(result.verdict).to.equal("fail");
      expect(result.reason).to.contain(`is the stack's canaryHeader "X-Canary: always"?`);
    } finally {
      await s.close();
    }
  });

  it("is no pre-traffic gate without a header", () => {
    expect(new ProbeGate({ requests: 10, minSuccessRate: 0.99 }).preTraffic).to.equal(false);
  });
});
