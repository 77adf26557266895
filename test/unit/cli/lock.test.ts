import { expect } from "chai";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DriverLock } from "../../../automation/cli/lock";
import { ReleaseInProgressError } from "../../../automation/release/errors";

interface Holder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

const readHolder = (file: string) => JSON.parse(fs.readFileSync(file, "utf8")) as Holder;

/** The pid of a process that has run and exited. */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    child.on("error", reject);
    child.on("exit", () => resolve(child.pid as number));
  });
}

describe("DriverLock", () => {
  let dir: string;
  const held: DriverLock[] = [];
  const acquire = (stack: string, command: string) => {
    const lock = DriverLock.acquire(dir, stack, command);
    held.push(lock);
    return lock;
  };

  beforeEach(() => {
    dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "driver-lock-")), "locks");
  });
  afterEach(() => {
    for (const lock of held.splice(0)) lock.release();
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it("creates the directory and a lock file naming this process, host and command", () => {
    const before = Date.now();
    acquire("dev", "rollout");
    const holder = readHolder(path.join(dir, "dev.lock"));
    expect(holder.pid).to.equal(process.pid);
    expect(holder.host).to.equal(os.hostname());
    expect(holder.command).to.equal("rollout");
    const since = Date.parse(holder.since);
    expect(since).to.be.within(before, Date.now());
    expect(new Date(since).toISOString()).to.equal(holder.since);
  });

  it("refuses a second driver while the holder runs, saying who holds it and what to do", () => {
    acquire("dev", "rollout");
    const { since } = readHolder(path.join(dir, "dev.lock"));
    let error: unknown;
    try {
      acquire("dev", "promote");
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ReleaseInProgressError);
    expect((error as Error).message).to.equal(
      `a release is in progress on stack dev: \`rollout\` (pid ${process.pid}) has been running since ${since}; ` +
        "wait for it, stop it with Ctrl-C, or roll back with `ecs-canary abort --stack dev`",
    );
    expect(readHolder(path.join(dir, "dev.lock")).command).to.equal("rollout");
  });

  it("locks each stack on its own; a stack name with a slash becomes one file name", () => {
    acquire("dev", "rollout");
    acquire("acme/shop/prod", "rollout");
    expect(fs.readdirSync(dir).sort()).to.deep.equal(["acme_shop_prod.lock", "dev.lock"]);
    expect(() => DriverLock.acquire(dir, "acme/shop/prod", "abort")).to.throw(
      ReleaseInProgressError,
      "a release is in progress on stack acme/shop/prod: `rollout`",
    );
  });

  it("release removes the file, and the stack can be locked again", () => {
    const lock = DriverLock.acquire(dir, "dev", "rollout");
    lock.release();
    expect(fs.existsSync(path.join(dir, "dev.lock"))).to.equal(false);
    acquire("dev", "promote");
    expect(readHolder(path.join(dir, "dev.lock")).command).to.equal("promote");
  });

  it("takes over a lock left by a process that no longer runs", async () => {
    const pid = await deadPid();
    expect(() => process.kill(pid, 0)).to.throw();
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "dev.lock");
    const stale: Holder = {
      pid,
      host: os.hostname(),
      command: "rollout",
      since: "2030-01-01T10:00:00.000Z",
    };
    fs.writeFileSync(file, JSON.stringify(stale));
    acquire("dev", "abort");
    const holder = readHolder(file);
    expect(holder.pid).to.equal(process.pid);
    expect(holder.command).to.equal("abort");
  });

  it("takes over a lock file that is not a holder (cut short by a crash)", () => {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "dev.lock");
    fs.writeFileSync(file, '{"pid": 12');
    acquire("dev", "rollout");
    expect(readHolder(file).pid).to.equal(process.pid);
  });
});
