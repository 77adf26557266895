import { expect } from "chai";
import { ConfigError } from "../../../infra/contract/settings";
import {
  InfrastructureError,
  ReleaseChangedError,
  UsageError,
} from "../../../automation/release/errors";
import { ReleaseEvent } from "../../../automation/release/ports";
import { ReleaseState } from "../../../automation/release/state";
import { releaseOf } from "../../../automation/stack/releaseTags";
import { StackTraffic } from "../../../automation/stack/stackTraffic";
import { FakeClock } from "../../support/fakeClock";
import { MemoryStack } from "../../support/memoryStack";

/** A release as the engine records it; only what the store must keep matters here. */
const record = (overrides: Partial<ReleaseState> = {}): ReleaseState => ({
  id: "1.0.2@1",
  version: "1.0.2",
  previousVersion: "1.0.1",
  stableColor: "blue",
  canaryColor: "green",
  steps: [{ weight: 10, bakeMs: 0 }],
  gates: { manual: false, maxInconclusiveMs: 0, intervalMs: 1000 },
  stepIndex: 0,
  phase: "shifting",
  status: "running",
  stepStarts: [],
  approvedSteps: [],
  scaleDownDelayMs: 0,
  startedAt: 1,
  updatedAt: 1,
  decisions: [],
  ...overrides,
});

/** A deployed stack: blue stable on 1.0.1, green on 1.0.0 at weight 0, both scaled to 100. */
async function deployed(settings: Record<string, string> = {}) {
  const stack = await new MemoryStack("dev", {
    blueVersion: "1.0.1",
    greenVersion: "1.0.0",
    stableColor: "blue",
    canaryWeight: "0",
    canaryScale: "100",
    ...settings,
  }).deployed();
  const events: ReleaseEvent[] = [];
  const traffic = stack.ports({ clock: new FakeClock(), report: (e) => events.push(e) });
  return { stack, traffic, events };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  return expect.fail("expected a rejection");
}

describe("stack traffic: the settings each change writes", () => {
  it("deploy: the version and image on the colour, at weight 0 and scale 100, in one write and one update", async () => {
    const { stack, traffic } = await deployed({ canaryScale: "0" });
    const outputs = await traffic.deploy(
      { color: "green", version: "1.0.2", image: "repo/app:1.0.2" },
      { purpose: "deploy" },
    );
    expect(stack.writes).to.deep.equal([
      { greenVersion: "1.0.2", greenImage: "repo/app:1.0.2", canaryScale: "100" },
    ]);
    expect(stack.sequence()).to.deep.equal(["blue:0/100"]);
    expect(outputs.green).to.include({ version: "1.0.2", scale: 100 });
  });

  it("deploy without an image keeps the colour's image", async () => {
    const { stack, traffic } = await deployed({ greenImage: "repo/app:old" });
    await traffic.deploy({ color: "green", version: "1.0.2" }, { purpose: "deploy" });
    expect(stack.config.greenImage).to.equal("repo/app:old");
    expect(stack.writes).to.deep.equal([{ greenVersion: "1.0.2" }]);
  });

  it("stage: the release recorded in the stack's tags, then the deploy's settings, no update", async () => {
    const { stack, traffic } = await deployed();
    const release = record({ phase: "deploying", stepIndex: -1 });
    await traffic.stage(
      { color: "green", version: "1.0.2" },
      { purpose: "deploy", record: release },
    );
    expect(stack.writes).to.have.length(1);
    expect(stack.writes[0]).to.include({ greenVersion: "1.0.2" });
    expect(releaseOf(stack.tags)).to.deep.equal(release);
    expect(stack.journal).to.deep.equal(["tags", "config"]);
    expect(stack.attempts).to.deep.equal([]);
  });

  it("shift: the canary weight, its release state durable in the tags before the update", async () => {
    const { stack, traffic } = await deployed();
    const release = record();
    const outputs = await traffic.shift(10, { purpose: "step 1/1: 10% to 1.0.0", record: release });
    expect(stack.writes).to.deep.equal([{ canaryWeight: "10" }]);
    expect(stack.journal).to.deep.equal(["tags", "config", "up"]);
    expect(releaseOf(stack.tags)).to.deep.equal(release);
    expect(outputs.weights).to.deep.equal({ blue: 90, green: 10 });
  });

  it("promote: stableColor and weight 0; the other colour keeps its tasks unless told", async () => {
    const { stack, traffic } = await deployed({ canaryWeight: "100" });
    await traffic.promote("green", { purpose: "promote" });
    expect(stack.writes).to.deep.equal([{ stableColor: "green", canaryWeight: "0" }]);
    expect(stack.last).to.deep.include({ weights: { blue: 0, green: 100 } });
    expect(stack.last?.blue.scale).to.equal(100);

    await traffic.promote("blue", { purpose: "swap back", otherScale: 0 });
    expect(stack.writes[1]).to.deep.equal({ stableColor: "blue", canaryScale: "0" });
    expect(stack.last?.green.scale).to.equal(0);
  });

  it("scale: the canary colour's scale at weight 0; the stable colour is refused, nothing written", async () => {
    const { stack, traffic } = await deployed();
    await traffic.scale("green", 0, { purpose: "scale down" });
    expect(stack.writes).to.deep.equal([{ canaryScale: "0" }]);
    expect(stack.last?.green.scale).to.equal(0);

    const refusal = await rejection(traffic.scale("blue", 0, { purpose: "scale down blue" }));
    expect(refusal).to.be.instanceOf(UsageError);
    expect(refusal.message).to.equal(
      "refused to update stack dev (scale down blue): blue is the stable colour, whose task set always runs at 100%; nothing was changed",
    );
    expect(stack.writes).to.have.length(1);
    expect(stack.sequence()).to.deep.equal(["blue:0/0"]);
  });

  it("roll back: weight 0, the stable colour, and the canary at scale 0 unless kept", async () => {
    const { stack, traffic } = await deployed({ canaryWeight: "50" });
    await traffic.rollBack("blue", true, { purpose: "roll back, keep" });
    expect(stack.writes).to.deep.equal([{ canaryWeight: "0" }]);
    await traffic.shift(50, { purpose: "again" });
    await traffic.rollBack("blue", false, { purpose: "roll back" });
    expect(stack.writes.at(-1)).to.deep.equal({ canaryWeight: "0", canaryScale: "0" });
    expect(stack.sequence()).to.deep.equal(["blue:0/100", "blue:50/100", "blue:0/0"]);
  });

  it("writes nothing that the settings already say", async () => {
    const { stack, traffic } = await deployed();
    await traffic.shift(0, { purpose: "all traffic to the stable version" });
    expect(stack.writes).to.deep.equal([]);
    expect(stack.sequence()).to.deep.equal(["blue:0/100"]);
  });
});

describe("stack traffic: checks before the write, verification after the update", () => {
  it("refuses traffic to a colour without tasks, writing nothing and running nothing", async () => {
    const { stack, traffic } = await deployed({ canaryScale: "0" });
    const before = { ...stack.config };
    const refusal = await rejection(traffic.promote("green", { purpose: "promote 1.0.0" }));
    expect(refusal).to.be.instanceOf(UsageError);
    expect(refusal.message).to.match(
      /^refused to update stack dev \(promote 1\.0\.0\): green would get 100% of traffic but its task set has no tasks \(scale 0\); .*; nothing was changed$/,
    );
    expect(stack.config).to.deep.equal(before);
    expect(stack.attempts).to.deep.equal([]);
  });

  it("refuses settings the program would refuse, before writing", async () => {
    const { stack, traffic } = await deployed();
    const refusal = await rejection(
      traffic.deploy({ color: "green", version: "1 0" }, { purpose: "deploy" }),
    );
    expect(refusal).to.be.instanceOf(ConfigError);
    expect(refusal.message).to.match(/^invalid setting greenVersion="1 0"/);
    expect(stack.writes).to.deep.equal([]);
  });

  it("reports each update with the settings it applies, and how long it took", async () => {
    const { traffic, events } = await deployed();
    await traffic.shift(25, { purpose: "canary weight 25%" });
    expect(events).to.deep.equal([
      {
        type: "update-started",
        purpose: "canary weight 25%",
        config: { stableColor: "blue", canaryWeight: "25", canaryScale: "100" },
      },
      {
        type: "update-finished",
        purpose: "canary weight 25%",
        weights: { blue: 75, green: 25 },
        durationMs: 0,
      },
    ]);
  });

  it("a weight the load balancer did not apply is an infrastructure error", async () => {
    const { stack, traffic } = await deployed();
    stack.misapplyUpdates.add(1);
    const err = await rejection(traffic.shift(20, { purpose: "canary weight 20%" }));
    expect(err).to.be.instanceOf(InfrastructureError);
    expect(err.message).to.equal(
      "weight mismatch after update (canary weight 20%): asked blue 80% / green 20%, the load balancer reports blue 80% / green 15%",
    );
  });

  it("a failed update names its purpose and the error's line", async () => {
    const { stack, traffic } = await deployed();
    stack.failUpdates.add(1);
    const err = await rejection(traffic.shift(20, { purpose: "canary weight 20%" }));
    expect(err).to.be.instanceOf(InfrastructureError);
    expect(err.message).to.equal(
      "update failed (canary weight 20%): update 1 failed: task set did not stabilize",
    );
    // Read again after a failed update: it may have applied part of its changes.
    expect(await traffic.deployed()).to.equal(stack.last);
  });
});

describe("stack traffic: the release's record", () => {
  it("reads back what it wrote, and the routing the settings ask for", async () => {
    const { traffic } = await deployed();
    expect(await traffic.read()).to.equal(undefined);
    const release = record();
    await traffic.write(release);
    expect(await traffic.read()).to.deep.equal(release);
    expect(await traffic.routing()).to.deep.equal({
      stable: { color: "blue", version: "1.0.1" },
      canary: { color: "green", version: "1.0.0" },
      canaryWeight: 0,
      canaryScale: 100,
    });
  });

  it("refuses bad settings when it reads", async () => {
    const stack = new MemoryStack("dev", { canaryWeight: "150" });
    const traffic = new StackTraffic(stack, { clock: new FakeClock(), report: () => {} });
    const err = await rejection(traffic.read());
    expect(err).to.be.instanceOf(ConfigError);
  });

  it("a step's record costs one tag read and, on a self-managed backend, one tag write", async () => {
    const { stack, traffic } = await deployed();
    stack.tagValueMax = 4096;
    await traffic.read();
    const [reads, writes] = [stack.tagReads, stack.tagWrites.length];
    const decisions = Array.from({ length: 20 }, (_, i) => ({
      at: i,
      step: 0,
      weight: 10,
      gate: "metrics",
      verdict: "pass" as const,
      reason: `interval ${i}: 1000 requests, 2 errors against 1 on the stable`,
    }));
    await traffic.shift(10, { purpose: "step 1/1: 10% to 1.0.0", record: record({ decisions }) });
    expect(stack.tagReads - reads, "tag reads").to.equal(1);
    expect(stack.tagWrites.length - writes, "tag writes").to.equal(1);
    expect(stack.attempts.length).to.equal(1);
  });

  it("runs no update once another command has changed the release meanwhile", async () => {
    const { stack, traffic } = await deployed();
    await traffic.read();
    await traffic.write(record());
    // Another machine's abort writes the record between this run's write and its update.
    const other = new StackTraffic(stack, { clock: new FakeClock(), report: () => {} });
    await other.read();
    await other.write(record({ phase: "rolling-back", outcome: "aborted by a person" }));
    const err = await rejection(
      traffic.shift(10, { purpose: "step 1/1: 10% to 1.0.0", record: record() }),
    );
    expect(err).to.be.instanceOf(ReleaseChangedError);
    expect(err.message).to.match(
      /changed by another command meanwhile \(now running, rolling-back\)/,
    );
    expect(stack.attempts).to.deep.equal([]);
    expect(releaseOf(stack.tags)).to.include({ phase: "rolling-back" });
  });
});

describe("stack traffic: finished releases kept for their reports", () => {
  it("keeps them in the stack's tags beside the record, leaving the record and settings alone", async () => {
    const { stack, traffic } = await deployed();
    expect(await traffic.archived()).to.deep.equal([]);
    await traffic.archive({ release: record({ id: "1.0.2@1" }) });
    expect((await traffic.archived()).map((e) => e.release.id)).to.deep.equal(["1.0.2@1"]);
    expect(stack.tagWrites.every((name) => name.startsWith("ecs-canary.archive."))).to.equal(true);
    expect(stack.writes).to.deep.equal([]);
    expect(await traffic.read()).to.equal(undefined);
  });
});
