/**
 * The `local` platform under the real Pulumi engine (Automation API, the CLI in
 * .tools/pulumi/bin, the compiled program in build/): one throw-away stack for
 * the whole file, changed step by step as a release would, destroyed at the end.
 */
import { expect } from "chai";
import * as path from "path";
import * as net from "net";
import type { MetricsView, RuleView } from "../../../infra/local/balancer/adminApi";
import { requestJson } from "../../../infra/local/shared/httpJson";
import { StackOutputs } from "../../../infra/contract/outputs";
import { processesMatching } from "../../unit/local/support/procScan";
import { sendRequests, share, sleep, startTraffic } from "../../unit/local/support/trafficClient";
import { createLocalStack, LocalStack } from "./support/localStack";

/** On top of Pulumi.local.yaml (which selects platform local), what the expectations below rely on. */
const BASE = {
  stableColor: "blue",
  blueVersion: "1.0.0",
  greenVersion: "1.0.1",
  desiredCount: "2",
  canaryWeight: "0",
};

/** A steady client that leaves the engine enough CPU: 2 workers, 5 ms between requests. */
const PACED = { maxRequests: 50_000, maxMs: 150_000, concurrency: 2, pauseMs: 5 };

async function adminConfig(outputs: StackOutputs): Promise<RuleView> {
  if (outputs.metricsSource.kind !== "local") throw new Error("not a local metrics source");
  const { status, body } = await requestJson("GET", `${outputs.metricsSource.adminUrl}/config`);
  expect(status).to.equal(200);
  return body as RuleView;
}

async function adminMetrics(outputs: StackOutputs): Promise<MetricsView> {
  if (outputs.metricsSource.kind !== "local") throw new Error("not a local metrics source");
  const { status, body } = await requestJson("GET", `${outputs.metricsSource.adminUrl}/metrics`);
  expect(status).to.equal(200);
  return body as MetricsView;
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

describe("local platform with the Pulumi engine", function () {
  this.timeout(180_000);
  let local: LocalStack;
  let outputs: StackOutputs;
  const weightOnlyUps: number[] = [];

  /** Processes this stack started, by their --instance= token. */
  const stackProcesses = () => processesMatching(`--instance=ecs-canary/${local.stackName}/`);
  const processesOf = (resourceId: string) =>
    processesMatching(`--instance=ecs-canary/${local.stackName}/${resourceId}`);

  before(async () => {
    local = await createLocalStack(BASE);
  });
  after(async () => {
    if (weightOnlyUps.length > 0) {
      console.log(`      pulumi up changing only the weight took ${weightOnlyUps.join(", ")} ms`);
    }
    await local?.dispose();
  });

  it("at canaryWeight 0 the stable version answers all of 1,000 requests", async () => {
    ({ outputs } = await local.up({}));
    expect(outputs.platform).to.equal("local");
    expect(outputs.weights).to.deep.equal({ blue: 100, green: 0 });
    expect(outputs.metricsSource.kind).to.equal("local");
    expect(outputs.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stackProcesses()).to.have.length(5);

    const tally = await sendRequests(outputs.url, 1000);
    expect(tally.failures).to.deep.equal([]);
    expect(tally.byVersion).to.deep.equal({ "1.0.0": 1000 });
  });

  it("at canaryWeight 30 the canary answers 30 +/- 4 % of 2,000 requests, changed in place", async () => {
    const before = outputs;
    const up = await local.up({ canaryWeight: "30" });
    weightOnlyUps.push(up.ms);
    outputs = up.outputs;
    expect(outputs.weights).to.deep.equal({ blue: 70, green: 30 });
    expect((await adminConfig(outputs)).groups.map((g) => g.weight)).to.deep.equal([70, 30]);
    expect(outputs.url).to.equal(before.url);
    expect(outputs.blue.taskSetId).to.equal(before.blue.taskSetId);
    expect(outputs.green.taskSetId).to.equal(before.green.taskSetId);

    const tally = await sendRequests(outputs.url, 2000);
    expect(tally.failures).to.deep.equal([]);
    expect(Object.keys(tally.byStatus)).to.deep.equal(["200"]);
    expect(share(tally, "1.0.1")).to.be.within(0.26, 0.34);
  });

  it("fails no request of a continuous client while the weight goes to 100 and back to 0", async () => {
    const traffic = startTraffic(outputs.url, PACED);
    await sleep(300);
    const to100 = await local.up({ canaryWeight: "100" });
    weightOnlyUps.push(to100.ms);
    expect(to100.outputs.weights).to.deep.equal({ blue: 0, green: 100 });
    await sleep(300);
    const to0 = await local.up({ canaryWeight: "0" });
    weightOnlyUps.push(to0.ms);
    outputs = to0.outputs;
    expect(outputs.weights).to.deep.equal({ blue: 100, green: 0 });
    await sleep(300);
    const tally = await traffic.stop();

    expect(tally.failures).to.deep.equal([]);
    expect(Object.keys(tally.byStatus)).to.deep.equal(["200"]);
    expect(tally.byVersion["1.0.0"]).to.be.greaterThan(0);
    expect(tally.byVersion["1.0.1"]).to.be.greaterThan(0);
  });

  it("replaces only the canary's task set for a new canary version; the stable serves throughout", async () => {
    ({ outputs } = await local.up({ canaryWeight: "30" }));
    const before = outputs;
    const stablePids = processesOf(before.blue.taskSetId).map((p) => p.pid);
    expect(stablePids).to.have.length(2);
    expect(processesOf(before.green.taskSetId)).to.have.length(2);

    const traffic = startTraffic(outputs.url, PACED);
    await sleep(300);
    ({ outputs } = await local.up({ greenVersion: "1.0.2" }));
    await sleep(300);
    const tally = await traffic.stop();

    expect(tally.failures).to.deep.equal([]);
    expect(Object.keys(tally.byStatus)).to.deep.equal(["200"]);
    expect(tally.byVersion["1.0.0"]).to.be.greaterThan(0);
    expect(tally.byVersion["1.0.1"]).to.be.greaterThan(0);
    expect(tally.byVersion["1.0.2"]).to.be.greaterThan(0);

    expect(outputs.blue.taskSetId).to.equal(before.blue.taskSetId);
    expect(processesOf(before.blue.taskSetId).map((p) => p.pid)).to.deep.equal(stablePids);
    expect(outputs.green.taskSetId).to.not.equal(before.green.taskSetId);
    expect(outputs.green.version).to.equal("1.0.2");
    expect(processesOf(before.green.taskSetId)).to.deep.equal([]);
    expect(processesOf(outputs.green.taskSetId)).to.have.length(2);
    expect(outputs.weights).to.deep.equal({ blue: 70, green: 30 });

    const after = await sendRequests(outputs.url, 200);
    expect(Object.keys(after.byVersion).sort()).to.deep.equal(["1.0.0", "1.0.2"]);
  });

  it("reports per-target-group metrics that agree with what a client counted", async () => {
    ({ outputs } = await local.up({ greenErrorRate: "0.2" }));
    const groups = outputs.metricsSource.targetGroupArnSuffixes;
    const before = await adminMetrics(outputs);
    const tally = await sendRequests(outputs.url, 1000);
    const after = await adminMetrics(outputs);
    expect(tally.failures).to.deep.equal([]);

    const delta = (color: "blue" | "green", key: "requests" | "errors5xx") =>
      after.targetGroups[groups[color]].totals[key] -
      (before.targetGroups[groups[color]]?.totals[key] ?? 0);
    expect(delta("green", "requests")).to.equal(tally.byVersion["1.0.2"]).and.to.equal(300);
    expect(delta("green", "errors5xx"))
      .to.equal(tally.errors5xxByVersion["1.0.2"])
      .and.to.equal(60);
    expect(delta("blue", "requests")).to.equal(tally.byVersion["1.0.0"]).and.to.equal(700);
    expect(delta("blue", "errors5xx")).to.equal(0);
    const latest = after.targetGroups[groups.green].minutes.at(-1);
    expect(latest?.requests).to.be.greaterThan(0);
    expect(latest?.latencyMs).to.have.keys(["p50", "p90", "p99"]);
  });

  it("replaces a crashed balancer and a task set with a dead process on the next refresh and up", async () => {
    const before = outputs;
    const [balancer] = stackProcesses().filter((p) =>
      p.cmdline.includes(path.join("balancer", "main.js")),
    );
    const [deadTask] = processesOf(before.green.taskSetId);
    process.kill(balancer.pid, "SIGKILL");
    process.kill(deadTask.pid, "SIGKILL");

    const refresh = await local.stack.refresh();
    expect(refresh.summary.result).to.equal("succeeded");
    ({ outputs } = await local.up({}));

    expect(outputs.green.taskSetId).to.not.equal(before.green.taskSetId);
    expect(outputs.blue.taskSetId).to.equal(before.blue.taskSetId);
    // The surviving task of the old green task set is stopped with it.
    expect(processesOf(before.green.taskSetId)).to.deep.equal([]);
    expect(outputs.metricsSource).to.not.deep.equal(before.metricsSource);
    expect(outputs.weights).to.deep.equal({ blue: 70, green: 30 });
    expect(stackProcesses()).to.have.length(5);
    const tally = await sendRequests(outputs.url, 100);
    expect(tally.byVersion).to.deep.equal({ "1.0.0": 70, "1.0.2": 30 });
  });

  it("refuses an invalid canaryWeight with one clear message and leaves the topology as it was", async () => {
    const before = await local.outputs();
    const ruleBefore = await adminConfig(before);
    const pidsBefore = stackProcesses()
      .map((p) => p.pid)
      .sort();

    let error: Error | undefined;
    await local.up({ canaryWeight: "150" }).catch((err: Error) => (error = err));
    expect(error?.message).to.contain(
      'invalid setting canaryWeight="150": must be an integer from 0 to 100',
    );

    expect(await local.outputs()).to.deep.equal(before);
    expect(await adminConfig(before)).to.deep.equal(ruleBefore);
    expect(
      stackProcesses()
        .map((p) => p.pid)
        .sort(),
    ).to.deep.equal(pidsBefore);
    const tally = await sendRequests(before.url, 100);
    expect(tally.byVersion).to.deep.equal({ "1.0.0": 70, "1.0.2": 30 });
    await local.stack.setConfig("ecs-canary:canaryWeight", { value: "30" });
  });

  it("destroy stops every process it started and leaves no listening port", async () => {
    const { deployment } = await local.stack.exportStack();
    const resources = deployment.resources as { type: string; outputs: Record<string, unknown> }[];
    const ofType = (type: string) => resources.filter((r) => r.type === type).map((r) => r.outputs);
    const recorded = [
      ...ofType("pulumi-nodejs:dynamic/local:LoadBalancer").flatMap((o) => [o.port, o.adminPort]),
      ...ofType("pulumi-nodejs:dynamic/local:TaskSet")
        .flatMap((o) => o.targets as string[])
        .map((url) => Number(new URL(url).port)),
    ] as number[];
    expect(recorded).to.have.length(2 + 2 + 2);
    expect(stackProcesses()).to.have.length(5);

    await local.stack.destroy();

    expect(stackProcesses()).to.deep.equal([]);
    for (const port of recorded)
      expect(await refusesConnections(port), `port ${port}`).to.equal(true);
  });
});
