/**
 * A driver killed with SIGKILL resumes where it stopped. Apart from rollout.test.ts so that the
 * integration files, run in parallel, take about the same time each.
 */
import { expect } from "chai";
import {
  baking,
  DriverStack,
  deployedStacks,
  refusedWhileHeld,
  statusOf,
  updates,
  waitFor,
} from "./driverHarness";

/** A lease that expires in 20 s (the default is 60 s), so that the tests need not wait long. */
const SHORT_LEASE = {
  ECS_CANARY_LEASE_EXPIRY_MS: "20000",
  ECS_CANARY_LEASE_HEARTBEAT_MS: "4000",
  ECS_CANARY_LEASE_SETTLE_MS: "1000",
};

/**
 * Runs `args` again after a driver was killed: its lease still holds (exit 5, naming it) until
 * it expires, whatever the host; then the run takes it over and resumes. `whileHeld` runs after
 * the refusal: the rerun comes first, so that slow checks cannot push it past the expiry.
 */
async function rerunAfterKill(
  s: DriverStack,
  args: string[],
  killedAt: number,
  whileHeld: () => Promise<void> = async () => {},
) {
  const early = await s.run(args);
  if (!refusedWhileHeld(early, Number(SHORT_LEASE.ECS_CANARY_LEASE_EXPIRY_MS))) return early;
  expect(Date.now() - killedAt).to.be.below(20_000);
  await whileHeld();
  const deadline = Date.now() + 2 * 60_000;
  for (;;) {
    const run = await s.run(args);
    if (run.code !== 5 || Date.now() > deadline) {
      expect(run.stderr).to.match(/took over the lease of stack/);
      return run;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

describe("ecs-canary driver killed and resumed on the local stack (real engine, real processes)", function () {
  this.timeout(15 * 60_000);
  const deployed = deployedStacks();

  it("continues after the driver is killed with SIGKILL during step 2, without repeating a step", async () => {
    const s = await deployed();
    Object.assign(s.env, SHORT_LEASE);
    const args = [
      "rollout",
      "--version",
      "1.1.0",
      "--steps",
      "20,40,100",
      "--bake",
      "6s",
      "--metrics",
      "off",
      "--interval",
      "1s",
      "--scale-down-delay",
      "1s",
    ];
    const first = s.start(args);
    await waitFor("step 2 to bake", () => (baking(first.events, 1) ? true : undefined), 5 * 60_000);
    first.child.kill("SIGKILL");
    const killed = await first.done;
    const killedAt = Date.now();
    expect(killed.signal).to.equal("SIGKILL");

    const second = await rerunAfterKill(s, args, killedAt, async () => {
      expect((await statusOf(s)).release).to.include({
        status: "running",
        stepIndex: 1,
        phase: "gating",
      });
    });
    expect(second.code, second.stderr).to.equal(0);
    expect(second.events.find((e) => e.type === "release")?.resumed).to.equal(true);
    expect(updates(second.events)).to.deep.equal([
      "step 3/3: 100% to 1.1.0",
      "promote 1.1.0: green becomes stable",
      "scale down blue (1.0.0)",
    ]);
    expect((await statusOf(s)).outputs.weights).to.deep.equal({ blue: 0, green: 100 });
  });

  it("continues after the driver is killed with SIGKILL in the middle of an update", async () => {
    const s = await deployed();
    Object.assign(s.env, SHORT_LEASE);
    const args = [
      "rollout",
      "--version",
      "1.2.0",
      "--steps",
      "30,100",
      "--bake",
      "2s",
      "--metrics",
      "off",
      "--interval",
      "1s",
      "--scale-down-delay",
      "0s",
    ];
    const first = s.start(args);
    await waitFor(
      "the update of step 2 to start",
      () =>
        first.events.some(
          (e) => e.type === "update-started" && String(e.purpose).startsWith("step 2/2"),
        )
          ? true
          : undefined,
      5 * 60_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    first.child.kill("SIGKILL");
    await first.done;
    const killedAt = Date.now();

    const second = await rerunAfterKill(s, args, killedAt);
    expect(second.code, second.stderr).to.equal(0);
    expect(updates(second.events)).to.deep.equal([
      "step 2/2: 100% to 1.2.0",
      "promote 1.2.0: green becomes stable",
      "scale down blue (1.0.0)",
    ]);
    const status = await statusOf(s);
    expect(status.outputs.weights).to.deep.equal({ blue: 0, green: 100 });
    expect(status.release).to.include({ status: "promoted", phase: "done" });
  });
});
