import { expect } from "chai";
import { deployedStacks, outcome, statusOf, SteadyClient, updates, waitFor } from "./driverHarness";

describe("ecs-canary driver on the local stack (real engine, real processes)", function () {
  this.timeout(15 * 60_000);
  const deployed = deployedStacks();

  it("releases a good version to 100 % and promotes it", async () => {
    const s = await deployed();
    const client = new SteadyClient((await statusOf(s)).outputs.url);
    const run = await s.run([
      "rollout",
      "--version",
      "1.0.2",
      "--steps",
      "25,100",
      "--bake",
      "3s",
      "--metrics",
      "off",
      "--probe",
      "40",
      "--interval",
      "1s",
      "--scale-down-delay",
      "2s",
    ]);
    await client.stop();
    expect(run.code, run.stderr).to.equal(0);
    expect(outcome(run.events)?.kind).to.equal("promoted");
    expect(updates(run.events)).to.deep.equal([
      "deploy 1.0.2 to green at 0%",
      "step 1/2: 25% to 1.0.2",
      "step 2/2: 100% to 1.0.2",
      "promote 1.0.2: green becomes stable",
      "scale down blue (1.0.0)",
    ]);
    const status = await statusOf(s);
    expect(status.release).to.include({ status: "promoted", version: "1.0.2", phase: "done" });
    expect(status.outputs.stableColor).to.equal("green");
    expect(status.outputs.weights).to.deep.equal({ blue: 0, green: 100 });
    expect(client.unanswered, "requests without an answer").to.equal(0);
    expect(client.count(200, "1.0.2")).to.be.greaterThan(0);
    expect(client.count(200, "1.0.0") + client.count(200, "1.0.2")).to.equal(client.total());
    const res = await fetch(status.outputs.url);
    expect((await res.text()).trim()).to.equal("Hello World! Version: 1.0.2");
  });

  it("rolls a bad version back to 0 % on its metrics; the stable answers every request", async () => {
    // The canary colour answers 40 % of its requests with 500; metrics in 5-second intervals
    // (the platform's default is 60, as CloudWatch's), so that the judge sees several soon.
    const s = await deployed({ greenErrorRate: "0.4", metricsIntervalSeconds: "5" });
    const client = new SteadyClient((await statusOf(s)).outputs.url);
    const started = Date.now();
    const run = await s.run([
      "rollout",
      "--version",
      "1.0.3",
      "--steps",
      "50,100",
      "--bake",
      "30s",
      "--metrics",
      "judge",
      "--min-requests",
      "50",
      "--latency-ratio",
      "0",
      "--load",
      "40",
      "--interval",
      "5s",
      "--max-inconclusive",
      "4m",
    ]);
    const releaseMs = Date.now() - started;
    expect(run.code, run.stderr).to.equal(1);
    const result = outcome(run.events);
    expect(result?.kind).to.equal("rolled-back");
    expect(result?.message).to.match(/metrics: canary fail/);
    expect(updates(run.events)).to.deep.equal([
      "deploy 1.0.3 to green at 0%",
      "step 1/2: 50% to 1.0.3",
      "roll back: all traffic to blue (1.0.0), green (1.0.3) scaled to 0",
    ]);
    const status = await statusOf(s);
    expect(status.outputs.weights).to.deep.equal({ blue: 100, green: 0 });
    // The failed version does not keep running (and billing) after the rollback.
    expect(status.outputs.green.scale).to.equal(0);
    expect(status.release).to.include({ status: "rolled-back", version: "1.0.3" });
    await client.stop();
    // During the release: the stable never failed, and no request went unanswered.
    expect(client.unanswered).to.equal(0);
    expect(client.count(500, "1.0.0")).to.equal(0);
    expect(client.count(500, "1.0.3")).to.be.greaterThan(0);
    // After it: every request answered by the stable version.
    const after = new SteadyClient(status.outputs.url, 300);
    await waitFor("300 requests", () => (after.total() >= 300 ? true : undefined), 60_000);
    await after.stop();
    expect(after.count(200, "1.0.0")).to.equal(after.total());
    expect(releaseMs).to.be.lessThan(5 * 60_000);
  });
});
