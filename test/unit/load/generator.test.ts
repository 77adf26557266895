import { expect } from "chai";
import * as http from "http";
import { AddressInfo } from "net";
import { TrafficGenerator } from "../../../automation/load/generator";

interface Server {
  url: string;
  /** Requests received, 5xx answered, and successful answers by trimmed body. */
  received: number;
  errors: number;
  bodies: Map<string, number>;
  /** Answers the requests held so far (hold mode). */
  releaseHeld(): void;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 answering request n (from 0) with answer(n); "hold": later. */
async function serve(
  answer: (n: number) => { status: number; body: string } | "hold",
): Promise<Server> {
  const held: http.ServerResponse[] = [];
  const server = http.createServer((_req, res) => {
    const a = answer(s.received++);
    if (a === "hold") {
      held.push(res);
      return;
    }
    if (a.status >= 500) s.errors++;
    else s.bodies.set(a.body.trim(), (s.bodies.get(a.body.trim()) ?? 0) + 1);
    res.writeHead(a.status, { "content-type": "text/plain" }).end(a.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const s: Server = {
    url: `http://127.0.0.1:${port}/`,
    received: 0,
    errors: 0,
    bodies: new Map(),
    releaseHeld: () => {
      for (const res of held.splice(0)) res.writeHead(200).end("held\n");
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return s;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("TrafficGenerator", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  const start = async (answer: Parameters<typeof serve>[0]) => {
    const s = await serve(answer);
    servers.push(s);
    return s;
  };

  for (const rps of [0, -5, 2001, 5000, NaN]) {
    it(`refuses ${rps} requests a second`, () => {
      expect(() => new TrafficGenerator("http://127.0.0.1:1/", rps)).to.throw(
        RangeError,
        `--load must be from 1 to 2000 requests a second, got ${rps}`,
      );
    });
  }

  it("accepts 1 and 2000 requests a second", () => {
    expect(new TrafficGenerator("http://127.0.0.1:1/", 1).stats.sent).to.equal(0);
    expect(new TrafficGenerator("http://127.0.0.1:1/", 2000).stats.sent).to.equal(0);
  });

  it("sends about rps x seconds, counting 5xx and answers by body", async () => {
    // Every 5th request fails; the others alternate between two versions.
    const s = await start((n) =>
      n % 5 === 0
        ? { status: 500, body: "Injected error. Version: 1.0.1\n" }
        : { status: 200, body: `Hello World! Version: ${n % 2 ? "1.0.1" : "1.0.0"}\n` },
    );
    const rps = 100;
    const load = new TrafficGenerator(s.url, rps);
    const started = Date.now();
    load.start();
    await sleep(1500);
    const elapsed = Date.now() - started;
    const stats = await load.stop();

    expect(stats.sent).to.be.at.least(0.9 * 1.5 * rps);
    expect(stats.sent).to.be.at.most(Math.floor((elapsed / 1000) * rps) + 1);
    expect(s.received).to.equal(stats.sent);
    expect(stats.failed).to.equal(0);
    expect(stats.errors).to.equal(s.errors);
    expect(stats.errors).to.equal(Math.ceil(stats.sent / 5));
    expect(stats.ok).to.equal(stats.sent - stats.errors);
    expect([...stats.byBody.entries()].sort()).to.deep.equal([...s.bodies.entries()].sort());
    expect([...stats.byBody.keys()].sort()).to.deep.equal([
      "Hello World! Version: 1.0.0",
      "Hello World! Version: 1.0.1",
    ]);
  });

  it("keys answers by their first 80 characters", async () => {
    const long = `${"a".repeat(80)}${"b".repeat(20)}`;
    const s = await start((n) => ({ status: 200, body: n % 2 ? `  ${long}\n` : `${long}c` }));
    const load = new TrafficGenerator(s.url, 50);
    load.start();
    await sleep(300);
    const stats = await load.stop();
    expect(stats.sent).to.be.at.least(10);
    expect([...stats.byBody.entries()]).to.deep.equal([["a".repeat(80), stats.sent]]);
  });

  it("counts requests without an answer as failed", async () => {
    const s = await start(() => ({ status: 200, body: "" }));
    await s.close();
    servers.length = 0;
    const load = new TrafficGenerator(s.url, 50);
    load.start();
    await sleep(300);
    const stats = await load.stop();
    expect(stats.sent).to.be.at.least(10);
    expect(stats).to.deep.include({ ok: 0, errors: 0, failed: stats.sent });
    expect(stats.byBody.size).to.equal(0);
  });

  it("keeps at most maxInFlight requests waiting", async () => {
    const s = await start(() => "hold");
    const load = new TrafficGenerator(s.url, 500, 5);
    load.start();
    await sleep(200);
    expect(load.stats.sent).to.equal(5);
    const stopped = load.stop();
    s.releaseHeld();
    const stats = await stopped;
    expect(stats).to.deep.include({ sent: 5, ok: 5, errors: 0, failed: 0 });
    expect(s.received).to.equal(5);
  });
});
