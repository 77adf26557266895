import { expect } from "chai";
import { spawn } from "child_process";
import * as os from "os";
import { ReleaseInProgressError, UsageError } from "../../../automation/release/errors";
import {
  encodeLease,
  LEASE_TAG,
  LeaseHolder,
  leaseTiming,
  parseLease,
  StackLease,
} from "../../../automation/stack/lease";

/** A backend's tags, shared by the "machines" of a test. */
class Tags {
  readonly name = "dev";
  tags: Record<string, string> = {};
  async listTags() {
    return { ...this.tags };
  }
  async setTag(name: string, value: string) {
    this.tags[name] = value;
  }
  async removeTag(name: string) {
    delete this.tags[name];
  }
}

const TIMING = { expiryMs: 60_000, heartbeatMs: 15_000, settleMs: 0 };
const other = (overrides: Partial<LeaseHolder> = {}): LeaseHolder => ({
  host: "ci-runner-7",
  pid: 4242,
  command: "ecs-canary rollout",
  since: Date.UTC(2026, 0, 1, 12, 0, 0),
  beat: Date.now(),
  token: "other",
  ...overrides,
});

async function refusal(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  return expect.fail("expected a refusal");
}

function deadPid(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    child.on("exit", () => resolve(child.pid as number));
  });
}

describe("the driver's lease in the stack's tags", () => {
  it("is taken when free, names its holder, and is removed on release", async () => {
    const backend = new Tags();
    const lease = await StackLease.acquire(backend, "ecs-canary rollout --version 1.0.2", TIMING);
    const holder = parseLease(backend.tags[LEASE_TAG])!;
    expect(holder).to.include({
      host: os.hostname(),
      pid: process.pid,
      command: "ecs-canary rollout --version 1.0.2",
    });
    await lease.release();
    expect(backend.tags).to.not.have.property(LEASE_TAG);
  });

  it("refuses a second driver while the holder beats, naming who holds it since when", async () => {
    const backend = new Tags();
    backend.tags[LEASE_TAG] = encodeLease(other());
    const err = await refusal(StackLease.acquire(backend, "ecs-canary promote", TIMING));
    expect(err).to.be.instanceOf(ReleaseInProgressError);
    expect(err.message).to.match(
      /^a driver holds stack dev: `ecs-canary rollout` \(pid 4242 on ci-runner-7\) has held it since 2026-01-01T12:00:00.000Z, last heartbeat \d+s ago; .*taken over 1m after its last heartbeat\)$/,
    );
    expect(parseLease(backend.tags[LEASE_TAG])!.token).to.equal("other");
  });

  it("takes over a lease whose holder stopped beating for longer than the expiry", async () => {
    const backend = new Tags();
    backend.tags[LEASE_TAG] = encodeLease(other({ beat: Date.now() - 61_000 }));
    let previous: LeaseHolder | undefined;
    const lease = await StackLease.acquire(backend, "ecs-canary rollout", TIMING, {
      onTakeover: (h) => (previous = h),
    });
    expect(previous?.host).to.equal("ci-runner-7");
    expect(parseLease(backend.tags[LEASE_TAG])!.pid).to.equal(process.pid);
    await lease.release();
  });

  it("waits for the expiry even for a holder with this host name whose pid is gone (another machine's container may share the name)", async () => {
    const backend = new Tags();
    backend.tags[LEASE_TAG] = encodeLease(other({ host: os.hostname(), pid: await deadPid() }));
    const err = await refusal(StackLease.acquire(backend, "ecs-canary rollout", TIMING));
    expect(err).to.be.instanceOf(ReleaseInProgressError);
  });

  it("of two drivers starting at once, the one whose write landed last holds it; the other is refused", async () => {
    const backend = new Tags();
    const timing = { ...TIMING, settleMs: 50 };
    const results = await Promise.allSettled([
      StackLease.acquire(backend, "ecs-canary rollout A", timing),
      StackLease.acquire(backend, "ecs-canary rollout B", timing),
    ]);
    const held = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r) => r.status === "rejected");
    expect(held).to.have.length(1);
    expect(refused).to.have.length(1);
    expect(String((refused[0] as PromiseRejectedResult).reason.message)).to.match(
      /ecs-canary rollout B/,
    );
    await (held[0] as PromiseFulfilledResult<StackLease>).value.release();
  });

  it("beats, and tells its holder when another driver took the lease over", async () => {
    const backend = new Tags();
    const timing = { expiryMs: 200, heartbeatMs: 20, settleMs: 0 };
    let lost: LeaseHolder | undefined;
    const lease = await StackLease.acquire(backend, "ecs-canary rollout", timing, {
      onLost: (h) => (lost = h),
    });
    const firstBeat = parseLease(backend.tags[LEASE_TAG])!.beat;
    await new Promise((r) => setTimeout(r, 80));
    expect(parseLease(backend.tags[LEASE_TAG])!.beat).to.be.greaterThan(firstBeat);
    backend.tags[LEASE_TAG] = encodeLease(other());
    await new Promise((r) => setTimeout(r, 80));
    expect(lost?.token).to.equal("other");
    await lease.release();
    // Not its lease any more: left alone.
    expect(parseLease(backend.tags[LEASE_TAG])!.token).to.equal("other");
  });

  it("fits a tag value, cutting a long command", () => {
    const value = encodeLease(other({ command: `ecs-canary rollout ${"--flag ".repeat(80)}` }));
    expect(value.length).to.be.at.most(256);
    expect(parseLease(value)!.host).to.equal("ci-runner-7");
  });

  it("timing: 60 s expiry and 15 s heartbeats unless set; bad values refused", () => {
    expect(leaseTiming({})).to.deep.equal({
      expiryMs: 60_000,
      heartbeatMs: 15_000,
      settleMs: 2_000,
    });
    expect(
      leaseTiming({ ECS_CANARY_LEASE_EXPIRY_MS: "8000", ECS_CANARY_LEASE_HEARTBEAT_MS: "2000" }),
    ).to.include({
      expiryMs: 8000,
      heartbeatMs: 2000,
    });
    expect(() => leaseTiming({ ECS_CANARY_LEASE_EXPIRY_MS: "1m" })).to.throw(
      UsageError,
      /ECS_CANARY_LEASE_EXPIRY_MS "1m"/,
    );
    expect(() => leaseTiming({ ECS_CANARY_LEASE_EXPIRY_MS: "10000" })).to.throw(
      UsageError,
      /at most half/,
    );
  });
});
