import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import {
  isRunning,
  startDetached,
  stopProcess,
} from "../../../infra/local/providers/childProcesses";
import { ProcessPool, SERVICE_SCRIPT } from "./support/processPool";

const STUBBORN = path.join(__dirname, "fixtures", "ignoresSigterm.js");

describe("child processes (real processes)", function () {
  this.timeout(20_000);
  const pool = new ProcessPool();
  after(() => pool.stopAll());

  it("starts a detached process in its own process group with output in its log file", async () => {
    const { proc } = await pool.service("1.0.0");
    expect(isRunning(proc.pid, proc.token)).to.equal(true);
    const stat = fs.readFileSync(`/proc/${proc.pid}/stat`, "utf8");
    const pgid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
    expect(pgid).to.equal(proc.pid);
    expect(fs.readFileSync(proc.logFile, "utf8")).to.match(/listening on port \d+/);
  });

  it("does not take a live process with another token for its own, and leaves it alone", async () => {
    const { proc } = await pool.service("1.0.0");
    expect(isRunning(proc.pid, `${proc.token}-other`)).to.equal(false);
    await stopProcess(proc.pid, `${proc.token}-other`, 0);
    expect(isRunning(proc.pid, proc.token)).to.equal(true);
    expect(isRunning(0, proc.token)).to.equal(false);
    expect(isRunning(2 ** 30, proc.token)).to.equal(false);
  });

  it("kills a process that ignores SIGTERM once the grace time is over", async () => {
    const proc = await pool.start(STUBBORN, []);
    const started = Date.now();
    await stopProcess(proc.pid, proc.token, 300);
    expect(Date.now() - started).to.be.at.least(300);
    expect(isRunning(proc.pid, proc.token)).to.equal(false);
    expect(fs.readFileSync(proc.logFile, "utf8")).to.contain("SIGTERM ignored");
  });

  it("reports a process that exits before it is ready, with its log", async () => {
    const logFile = path.join(pool.dir, "bad.log");
    let error: Error | undefined;
    try {
      await startDetached({
        script: SERVICE_SCRIPT,
        args: [],
        env: { PORT: "99999" },
        token: "ecs-canary-test/bad",
        logFile,
        readyTimeoutMs: 10_000,
      });
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.match(/exited before it was ready \(code 1\)/);
    expect(error?.message).to.contain('PORT="99999" must be a number from 0 to 65535');
  });
});
