import { expect } from "chai";
import { spawn } from "child_process";
import * as http from "http";
import { isRunning } from "../../../infra/local/providers/childProcesses";
import { healthCheck } from "../../../infra/local/shared/httpJson";
import { ProcessPool, SERVICE_SCRIPT } from "./support/processPool";
import { sendRequests } from "./support/trafficClient";

function get(
  url: string,
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      })
      .on("error", reject);
  });
}

describe("sample service (real process)", function () {
  this.timeout(20_000);
  const pool = new ProcessPool();
  after(() => pool.stopAll());

  it("answers / with its APPVERSION on the port it reports, and 404 elsewhere", async () => {
    const { url } = await pool.service("3.1.4");
    const root = await get(`${url}/`);
    expect(root.status).to.equal(200);
    expect(root.body).to.equal("Hello World! Version: 3.1.4\n");
    expect(root.headers["x-app-version"]).to.equal("3.1.4");
    expect((await get(`${url}/other`)).status).to.equal(404);
  });

  it("answers exactly the configured share with 500 but passes every health check", async () => {
    const { url } = await pool.service("1.0.0", { errorRate: 0.2 });
    const tally = await sendRequests(`${url}/`, 500, 20_000, 4);
    expect(tally.failures).to.deep.equal([]);
    expect(tally.byStatus).to.deep.equal({ "200": 400, "500": 100 });
    const checks = await Promise.all(Array.from({ length: 20 }, () => healthCheck(url, 1000)));
    expect(checks.every((s) => s === 200)).to.equal(true);
  });

  it("adds the configured latency to client requests only", async () => {
    const { url } = await pool.service("1.0.0", { latencyMs: 200 });
    let started = Date.now();
    await get(`${url}/`);
    expect(Date.now() - started).to.be.at.least(190);
    started = Date.now();
    expect(await healthCheck(url, 1000)).to.equal(200);
    expect(Date.now() - started).to.be.below(150);
  });

  /** Runs the service as a plain child: resolves its port once ready, and its exit. */
  function runService(env: Record<string, string>) {
    const child = spawn(process.execPath, [SERVICE_SCRIPT], {
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: { ...process.env, APPVERSION: "crashy", PORT: "0", ...env },
    });
    let output = "";
    child.stdout?.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
    const exited = new Promise<{ code: number | null; at: number; output: string }>((resolve) =>
      child.once("exit", (code) => resolve({ code, at: Date.now(), output })),
    );
    const ready = new Promise<{ port: number; at: number }>((resolve) =>
      child.once("message", (m: { ports: { port: number } }) =>
        resolve({ port: m.ports.port, at: Date.now() }),
      ),
    );
    return { child, ready, exited };
  }

  it("exits with code 1 CRASH_AFTER_MS after it starts listening, answering until then; 0 never exits", async () => {
    const crashy = runService({ CRASH_AFTER_MS: "400" });
    const steady = runService({ CRASH_AFTER_MS: "0" });
    try {
      const { port, at } = await crashy.ready;
      expect((await get(`http://127.0.0.1:${port}/`)).status).to.equal(200);
      const exit = await crashy.exited;
      expect(exit.code).to.equal(1);
      expect(exit.at - at).to.be.within(300, 2000);
      expect(exit.output).to.include("CRASH_AFTER_MS=400 elapsed since it started listening");
      expect(await healthCheck(`http://127.0.0.1:${port}`, 500)).to.equal(0);
      const steadyPort = (await steady.ready).port;
      expect(steady.child.exitCode).to.equal(null);
      expect(await healthCheck(`http://127.0.0.1:${steadyPort}`, 500)).to.equal(200);
    } finally {
      crashy.child.kill("SIGKILL");
      steady.child.kill("SIGKILL");
    }
  });

  it("refuses a CRASH_AFTER_MS that is not a number from 0 to 3600000", async () => {
    const bad = runService({ CRASH_AFTER_MS: "-5" });
    const exit = await bad.exited;
    expect(exit.code).to.equal(1);
    expect(exit.output).to.include('CRASH_AFTER_MS="-5" must be a number from 0 to 3600000');
  });

  it("finishes requests in flight on SIGTERM, then exits", async () => {
    const { url, proc } = await pool.service("1.0.0", { latencyMs: 500 });
    const inFlight = get(`${url}/`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopping = pool.stop(proc, 5000);
    expect((await inFlight).status).to.equal(200);
    await stopping;
    expect(isRunning(proc.pid, proc.token)).to.equal(false);
    expect(await healthCheck(url, 500)).to.equal(0);
  });
});
