import { expect } from "chai";
import * as http from "http";
import { AddressInfo } from "net";
import { StackOutputs } from "../../../infra/contract/outputs";
import { GateContext } from "../../../automation/release/ports";
import { WebhookGate } from "../../../automation/gates/webhook";
import { Step } from "../../../automation/release/plan";
import { ReleaseState } from "../../../automation/release/state";

const T0 = Date.UTC(2030, 0, 1, 10, 0, 0);

interface Received {
  method: string;
  path: string;
  contentType: string | undefined;
  body: string;
}

interface Hook {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 recording each request and answering with answer(); null: never. */
async function hook(answer: () => { status: number; body?: string } | null): Promise<Hook> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      received.push({
        method: req.method ?? "",
        path: req.url ?? "",
        contentType: req.headers["content-type"],
        body,
      });
      const a = answer();
      if (a !== null) res.writeHead(a.status).end(a.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/canary?team=shop`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const STEPS: Step[] = [
  { weight: 10, bakeMs: 300_000 },
  { weight: 50, bakeMs: 120_000 },
  { weight: 100, bakeMs: 0 },
];

function context(): GateContext {
  const release: ReleaseState = {
    id: "rel-2030-01-01T10-00",
    version: "1.0.1",
    previousVersion: "1.0.0",
    stableColor: "blue",
    canaryColor: "green",
    steps: STEPS,
    gates: {
      manual: false,
      webhook: { url: "http://127.0.0.1:1/", timeoutMs: 1000 },
      maxInconclusiveMs: 600_000,
      intervalMs: 15_000,
    },
    stepIndex: 1,
    phase: "gating",
    status: "running",
    stepStartedAt: T0 + 300_000,
    stepStarts: [T0, T0 + 300_000],
    approvedSteps: [],
    scaleDownDelayMs: 60_000,
    startedAt: T0 - 30_000,
    updatedAt: T0 + 300_000,
    decisions: [],
  };
  const outputs = {
    platform: "aws",
    url: "http://canary-alb-123.eu-west-1.elb.amazonaws.com/",
    canaryWeight: 50,
    stableColor: "blue",
    canaryColor: "green",
    weights: { blue: 50, green: 50 },
    clusterName: "canary",
  } as StackOutputs;
  return {
    release,
    step: STEPS[1],
    stepIndex: 1,
    outputs,
    now: T0 + 345_000,
    elapsedMs: 45_000,
  };
}

describe("WebhookGate", () => {
  const hooks: Hook[] = [];
  const start = async (answer: Parameters<typeof hook>[0]) => {
    const h = await hook(answer);
    hooks.push(h);
    return h;
  };
  afterEach(async () => {
    for (const h of hooks.splice(0)) await h.close();
  });

  it("POSTs the release, the step and the outputs as JSON", async () => {
    const h = await start(() => ({ status: 200, body: "ok" }));
    const gate = new WebhookGate({ url: h.url, timeoutMs: 2000 });
    expect(gate.name).to.equal("webhook");
    await gate.check(context());
    expect(h.received).to.have.length(1);
    const [request] = h.received;
    expect(request.method).to.equal("POST");
    expect(request.path).to.equal("/hooks/canary?team=shop");
    expect(request.contentType).to.equal("application/json");
    expect(JSON.parse(request.body)).to.deep.equal({
      release: {
        id: "rel-2030-01-01T10-00",
        version: "1.0.1",
        previousVersion: "1.0.0",
        canaryColor: "green",
        stableColor: "blue",
        status: "running",
      },
      step: { index: 2, of: 3, weight: 50, bakeMs: 120_000, elapsedMs: 45_000 },
      outputs: {
        url: "http://canary-alb-123.eu-west-1.elb.amazonaws.com/",
        weights: { blue: 50, green: 50 },
        platform: "aws",
      },
    });
  });

  for (const status of [200, 201, 202]) {
    it(`passes on ${status}, quoting the answer`, async () => {
      const h = await start(() => ({ status, body: "  go ahead\n" }));
      expect(await new WebhookGate({ url: h.url, timeoutMs: 2000 }).check(context())).to.deep.equal(
        {
          gate: "webhook",
          verdict: "pass",
          reason: `POST ${h.url} answered ${status}: go ahead`,
          details: { status },
        },
      );
    });
  }

  it("passes on 204 without a body", async () => {
    const h = await start(() => ({ status: 204 }));
    expect(await new WebhookGate({ url: h.url, timeoutMs: 2000 }).check(context())).to.deep.equal({
      gate: "webhook",
      verdict: "pass",
      reason: `POST ${h.url} answered 204`,
      details: { status: 204 },
    });
  });

  for (const [status, body] of [
    [400, "bad payload"],
    [403, "change freeze until 18:00"],
    [409, "error budget exhausted"],
    [500, "boom"],
    [503, ""],
  ] as [number, string][]) {
    it(`fails on ${status} with the status${body ? " and the answer" : ""} in the reason`, async () => {
      const h = await start(() => ({ status, body }));
      expect(await new WebhookGate({ url: h.url, timeoutMs: 2000 }).check(context())).to.deep.equal(
        {
          gate: "webhook",
          verdict: "fail",
          reason: `POST ${h.url} answered ${status}${body ? `: ${body}` : ""}`,
          details: { status },
        },
      );
    });
  }

  it("quotes at most 200 characters of the answer", async () => {
    const h = await start(() => ({ status: 403, body: `\n${"x".repeat(150)}${"y".repeat(150)}` }));
    const result = await new WebhookGate({ url: h.url, timeoutMs: 2000 }).check(context());
    expect(result.reason).to.equal(
      `POST ${h.url} answered 403: ${"x".repeat(150)}${"y".repeat(50)}`,
    );
  });

  it("is inconclusive when nothing listens", async () => {
    const h = await start(() => ({ status: 200 }));
    await h.close();
    expect(await new WebhookGate({ url: h.url, timeoutMs: 2000 }).check(context())).to.deep.equal({
      gate: "webhook",
      verdict: "inconclusive",
      reason: `POST ${h.url} failed: fetch failed`,
    });
  });

  it("is inconclusive when the answer does not come in time", async () => {
    const h = await start(() => null);
    const started = Date.now();
    expect(await new WebhookGate({ url: h.url, timeoutMs: 150 }).check(context())).to.deep.equal({
      gate: "webhook",
      verdict: "inconclusive",
      reason: `POST ${h.url} failed: The operation was aborted due to timeout`,
    });
    expect(Date.now() - started).to.be.within(140, 2000);
    expect(h.received).to.have.length(1);
  });
});
