import { expect } from "chai";
import { deployedStacks, outcome, statusOf, SteadyClient, updates, waitFor } from "./driverHarness";

/**
 * Versions that crash, as an ALB and ECS would show them: the balancer answers 502 for the
 * canary's share, counts target connection errors and unhealthy hosts, and none of it is a
 * target 5xx. The release must be rolled back by those signals and converge.
 */
describe("ecs-canary driver: crashing versions on the local stack (real engine, real processes)", function () {
  this.timeout(15 * 60_000);
  const deployed = deployedStacks();

  it("rolls back a canary whose tasks crash after start, on balancer errors the target metrics never show", async () => {
    // Green's processes exit 3 s after they start; metrics in 5-second intervals (the
    // platform's default is 60) and a settle delay of one interval, so that the gate judges
    // settled intervals only.
    const s = await deployed({
      greenCrashAfterMs: "3000",
      metricsIntervalSeconds: "5",
      metricsSettleSeconds: "5",
    });
    const client = new SteadyClient((await statusOf(s)).outputs.url);
    const run = await s.run([
      "rollout",
      "--version",
      "1.0.4",
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
      "2s",
      "--max-inconclusive",
      "2m",
    ]);
    await client.stop();
    expect(run.code, run.stderr).to.equal(1);
    const result = outcome(run.events);
    expect(result?.kind).to.equal("rolled-back");
    // The decision names the signal and its numbers.
    const failed = run.events.find(
      (e) => e.type === "decision" && (e.decision as { verdict: string }).verdict === "fail",
    )?.decision as { reason: string } | undefined;
    expect(failed?.reason).to.match(/metrics: .*(connection error|balancer|unhealthy)/i);
    expect(failed?.reason).to.match(/\d/);
    expect(updates(run.events)).to.have.length(3);
    expect(updates(run.events)[2]).to.match(/^roll back: all traffic to blue \(1\.0\.0\)/);

    const outputs = (await statusOf(s)).outputs;
    expect(outputs.weights).to.deep.equal({ blue: 100, green: 0 });
    expect(outputs.green.scale, "the failed version is scaled down").to.equal(0);
    // The stable never failed; the canary's share got the balancer's 502s.
    expect(client.count(500, "1.0.0")).to.equal(0);
    expect(client.countStatus(502), "the balancer's 502s for the crashed canary").to.be.greaterThan(
      0,
    );
    const after = new SteadyClient(outputs.url, 200);
    await waitFor("200 requests", () => (after.total() >= 200 ? true : undefined), 60_000);
    await after.stop();
    expect(after.count(200, "1.0.0")).to.equal(after.total());
  });

  it("rolls back a version that never becomes healthy, and the rollback converges", async () => {
    const s = await deployed({ greenCrashAfterMs: "0" });
    // Now green's next version exits at once: its task set can never become healthy.
    await s.setConfig({ greenCrashAfterMs: "1" });
    const run = await s.run([
      "rollout",
      "--version",
      "1.0.5",
      "--steps",
      "50,100",
      "--bake",
      "5s",
      "--metrics",
      "off",
      "--interval",
      "1s",
    ]);
    expect(run.code, run.stderr).to.equal(1);
    expect(outcome(run.events)?.kind).to.equal("rolled-back");
    expect(outcome(run.events)?.message).to.match(/deploy 1\.0\.5/);
    const outputs = (await statusOf(s)).outputs;
    expect(outputs.weights).to.deep.equal({ blue: 100, green: 0 });
    expect(outputs.green.scale).to.equal(0);
    // Nothing is stuck: an abort afterwards succeeds too.
    const abort = await s.run(["abort"]);
    expect(abort.code, abort.stderr).to.equal(0);
  });
});
