import { expect } from "chai";
import { deployedStacks, outcome, statusOf, updates, waitFor } from "./driverHarness";

/**
 * A release paused for a person, stopped with Ctrl-C, and guarded against a second driver. Apart
 * from rollout.test.ts so that the integration files, run in parallel, take about the same time.
 */
describe("ecs-canary driver: pause, Ctrl-C and a second driver on the local stack (real engine, real processes)", function () {
  this.timeout(15 * 60_000);
  const deployed = deployedStacks();

  it("pauses for approval without a terminal (exit 3); promote goes on", async () => {
    const s = await deployed();
    const paused = await s.run([
      "rollout",
      "--version",
      "1.3.0",
      "--steps",
      "40,100",
      "--bake",
      "1s",
      "--metrics",
      "off",
      "--manual",
      "--interval",
      "1s",
      "--scale-down-delay",
      "0s",
    ]);
    expect(paused.code, paused.stderr).to.equal(3);
    expect(outcome(paused.events)?.message).to.match(
      /paused at step 1 \(40%\): awaiting a person's approval/,
    );
    expect((await statusOf(s)).outputs.weights).to.deep.equal({ blue: 60, green: 40 });

    const next = await s.run(["promote"]);
    expect(next.code, next.stderr).to.equal(3);
    expect(updates(next.events)).to.deep.equal(["step 2/2: 100% to 1.3.0"]);

    const done = await s.run(["promote"]);
    expect(done.code, done.stderr).to.equal(0);
    expect(outcome(done.events)?.kind).to.equal("promoted");
    expect((await statusOf(s)).outputs.stableColor).to.equal("green");
  });

  it("stops on Ctrl-C with exit 130, the stable serving, and says how to go on", async () => {
    const s = await deployed();
    const run = s.start([
      "rollout",
      "--version",
      "1.4.0",
      "--steps",
      "25,100",
      "--bake",
      "10m",
      "--metrics",
      "off",
      "--interval",
      "1s",
    ]);
    await waitFor(
      "step 1",
      () => (run.events.some((e) => e.type === "step") ? true : undefined),
      5 * 60_000,
    );
    run.child.kill("SIGINT");
    const stopped = await run.done;
    expect(stopped.code).to.equal(130);
    const result = outcome(stopped.events);
    expect(result?.kind).to.equal("interrupted");
    expect(result?.message).to.contain(`rollout --stack ${s.name} --version 1.4.0`);
    expect(result?.message).to.contain(`abort --stack ${s.name}`);
    const status = await statusOf(s);
    expect(status.release).to.include({ status: "running", stepIndex: 0, phase: "gating" });
    expect(status.outputs.weights).to.deep.equal({ blue: 75, green: 25 });
  });

  it("refuses a second driver on the same stack while a release runs", async () => {
    const s = await deployed();
    const first = s.start([
      "rollout",
      "--version",
      "2.0.0",
      "--steps",
      "10,100",
      "--bake",
      "10m",
      "--metrics",
      "off",
      "--interval",
      "1s",
    ]);
    await waitFor(
      "step 1",
      () => (first.events.some((e) => e.type === "step") ? true : undefined),
      5 * 60_000,
    );

    const second = await s.run(["rollout", "--version", "2.0.0", "--steps", "10,100"]);
    expect(second.code).to.equal(5);
    expect(second.stderr).to.match(
      /a driver holds stack itest-driver-.*: `ecs-canary rollout` \(pid \d+ on [^)]+\) has held it since /,
    );
    const third = await s.run(["set-weight", "50"]);
    expect(third.code).to.equal(5);

    const abort = await s.run(["abort"]);
    expect(abort.code, abort.stderr).to.equal(0);
    const result = await first.done;
    expect(result.code).to.equal(1);
    expect(outcome(result.events)?.kind).to.equal("aborted");
    expect((await statusOf(s)).outputs.weights).to.deep.equal({ blue: 100, green: 0 });
  });
});
