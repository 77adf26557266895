import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import type { ResourceProvider } from "@pulumi/pulumi/dynamic";
import { serializeFunction } from "@pulumi/pulumi/runtime";
import type { MetricsView } from "../../../infra/local/balancer/adminApi";
import { isRunning } from "../../../infra/local/providers/childProcesses";
import {
  loadBalancerProvider,
  taskSetProvider,
} from "../../../infra/local/program/dynamicResources";
import { requestJson } from "../../../infra/local/shared/httpJson";
import { provider as lbImpl } from "../../../infra/local/providers/loadBalancerProvider";
import {
  LoadBalancerInputs,
  LoadBalancerState,
  TaskSetInputs,
  TaskSetState,
} from "../../../infra/local/providers/resourceShapes";
import { provider as taskSetImpl } from "../../../infra/local/providers/taskSetProvider";
import { ProcessPool, putRule } from "./support/processPool";
import { processesMatching } from "./support/procScan";
import { sendRequests } from "./support/trafficClient";

type Provider = Required<Pick<ResourceProvider, "create" | "diff" | "read" | "update" | "delete">>;

/** Loads a provider the way Pulumi's provider process does: from its serialised text. */
async function deserialized(provider: object, dir: string, name: string): Promise<Provider> {
  const { text } = await serializeFunction(() => provider, { allowSecrets: true });
  const file = path.join(dir, `${name}.js`);
  fs.writeFileSync(file, text);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the point is to load the text
  return require(file).handler();
}

describe("dynamic providers against real processes", function () {
  this.timeout(60_000);
  const pool = new ProcessPool();
  const created: { kind: "ts" | "lb"; id: string; state: TaskSetState | LoadBalancerState }[] = [];
  after(async () => {
    for (const c of created.reverse()) {
      if (c.kind === "lb") await lbImpl.delete(c.id, c.state as LoadBalancerState);
      else await taskSetImpl.delete(c.id, c.state as TaskSetState);
    }
    await pool.stopAll();
  });

  const taskSetInputs = (color: "blue" | "green", version: string, count = 2): TaskSetInputs => ({
    stack: `unit-${process.pid}`,
    color,
    version,
    errorRate: 0,
    latencyMs: 0,
    crashAfterMs: 0,
    count,
    stateDir: pool.dir,
  });

  async function createTaskSet(inputs: TaskSetInputs): Promise<TaskSetState> {
    const { id, outs } = await taskSetImpl.create(inputs);
    created.push({ kind: "ts", id, state: outs as TaskSetState });
    return outs as TaskSetState;
  }

  it("serialises into a few delegating functions that load the compiled implementation", async () => {
    const ts = await deserialized(taskSetProvider, pool.dir, "task-set");
    const lb = await deserialized(loadBalancerProvider, pool.dir, "load-balancer");
    const dead = { pid: 2 ** 30, token: "x", url: "http://127.0.0.1:1", logFile: "" };
    const state = {
      ...taskSetInputs("blue", "1"),
      taskSetId: "t",
      tasks: [dead],
      targets: [],
      runningTasks: 1,
    };
    expect((await ts.read("t", state)).props?.runningTasks).to.equal(0);
    expect((await lb.diff("l", { pid: 2 ** 30, token: "x" }, {})).replaces).to.deep.equal(["pid"]);
  });

  it("serialises without the path of this working copy (a stack moves between copies)", async () => {
    for (const provider of [taskSetProvider, loadBalancerProvider]) {
      const { text } = await serializeFunction(() => provider, { allowSecrets: true });
      expect(text).not.to.include(path.resolve(__dirname, "..", "..", "..", ".."));
      expect(text).to.match(/build\/infra\/local\/providers\/\w+Provider\.js/);
    }
  });

  it("creates a task set of healthy processes, replaces it when one dies, stops all on delete", async () => {
    const inputs = taskSetInputs("blue", "9.9.9");
    const state = await createTaskSet(inputs);
    expect(state.taskSetId).to.match(/^ts-blue-[0-9a-f]{8}$/);
    expect(state.tasks).to.have.length(2);
    for (const url of state.targets) {
      expect((await sendRequests(url, 1)).byVersion).to.deep.equal({ "9.9.9": 1 });
    }
    expect((await taskSetImpl.diff(state.taskSetId, state, inputs)).changes).to.equal(false);
    expect(
      (await taskSetImpl.diff(state.taskSetId, state, { ...inputs, version: "10" })).replaces,
    ).to.deep.equal(["version"]);

    process.kill(state.tasks[0].pid, "SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await taskSetImpl.read(state.taskSetId, state)).props?.runningTasks).to.equal(1);
    expect((await taskSetImpl.diff(state.taskSetId, state, inputs)).replaces).to.deep.equal([
      "tasks",
    ]);

    await taskSetImpl.delete(state.taskSetId, state);
    expect(state.tasks.some((t) => isRunning(t.pid, t.token))).to.equal(false);
  });

  it("runs a balancer whose rule is applied in place and read back, and replaced when it dies", async () => {
    const blue = await createTaskSet(taskSetInputs("blue", "1.0.0"));
    const green = await createTaskSet(taskSetInputs("green", "1.0.1", 1));
    const inputs: LoadBalancerInputs = {
      stack: `unit-${process.pid}`,
      name: "canary",
      listenPort: 0,
      metricsIntervalMs: 60_000,
      stateDir: pool.dir,
      weights: { blue: 100, green: 0 },
      targets: { blue: blue.targets, green: green.targets },
    };
    const { id, outs } = await lbImpl.create(inputs);
    const lb = outs as LoadBalancerState;
    created.push({ kind: "lb", id, state: lb });
    expect(lb.applied).to.deep.include({ weights: { blue: 100, green: 0 } });
    expect((await sendRequests(lb.url, 20)).byVersion).to.deep.equal({ "1.0.0": 20 });
    expect(await lbImpl.diff(id, lb, inputs)).to.deep.equal({ changes: false, replaces: [] });

    const canary = { ...inputs, weights: { blue: 50, green: 50 } };
    expect((await lbImpl.diff(id, lb, canary)).changes).to.equal(true);
    const updated = (await lbImpl.update(id, lb, canary)).outs as LoadBalancerState;
    expect(updated.applied.weights).to.deep.equal({ blue: 50, green: 50 });
    expect(updated.applied.revision).to.equal(lb.applied.revision + 1);
    expect(updated.pid).to.equal(lb.pid);
    expect((await sendRequests(updated.url, 20)).byVersion).to.deep.equal({
      "1.0.0": 10,
      "1.0.1": 10,
    });

    await putRule(updated.adminUrl, [
      { id: updated.targetGroups.blue, weight: 0, targets: blue.targets },
      { id: updated.targetGroups.green, weight: 100, targets: green.targets },
    ]);
    expect((await lbImpl.diff(id, updated, canary)).changes).to.equal(true);
    const refreshed = (await lbImpl.read(id, updated)).props as LoadBalancerState;
    expect(refreshed.applied.weights).to.deep.equal({ blue: 0, green: 100 });

    process.kill(updated.pid, "SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await lbImpl.diff(id, updated, canary)).to.deep.equal({
      changes: true,
      replaces: ["pid"],
      deleteBeforeReplace: true,
    });
    const afterCrash = (await lbImpl.read(id, updated)).props as LoadBalancerState;
    expect(afterCrash.running).to.equal(false);
    await lbImpl.delete(id, updated);
  });

  it("fails create of a task set whose processes crash at once, naming the version and the exit, leaving no process", async () => {
    const stack = `unit-${process.pid}-crash`;
    const inputs = { ...taskSetInputs("green", "6.6.6"), stack, crashAfterMs: 1 };
    let error: Error | undefined;
    await taskSetImpl.create(inputs).catch((err: Error) => (error = err));
    expect(error?.message).to.match(/^task set green version 6\.6\.6 did not start: /);
    expect(error?.message).to.match(/exited before it (was ready|became healthy)/);
    expect(error?.message).to.include("CRASH_AFTER_MS=1 elapsed");
    expect(error?.message).to.include("exit code 1");
    expect(processesMatching(`--instance=ecs-canary/${stack}/`)).to.deep.equal([]);
  });

  it("shows a task set whose processes crash after start as 502s, connection errors and unhealthy hosts", async function () {
    this.timeout(30_000);
    const blue = await createTaskSet(taskSetInputs("blue", "1.0.0"));
    const green = await createTaskSet({ ...taskSetInputs("green", "7.0.0"), crashAfterMs: 1500 });
    const inputs: LoadBalancerInputs = {
      stack: `unit-${process.pid}`,
      name: "canary",
      listenPort: 0,
      metricsIntervalMs: 60_000,
      stateDir: pool.dir,
      weights: { blue: 50, green: 50 },
      targets: { blue: blue.targets, green: green.targets },
    };
    const { id, outs } = await lbImpl.create(inputs);
    const lb = outs as LoadBalancerState;
    created.push({ kind: "lb", id, state: lb });
    const metrics = async () =>
      (await requestJson("GET", `${lb.adminUrl}/metrics`)).body as MetricsView;

    const deadline = Date.now() + 10_000;
    while (green.tasks.some((t) => isRunning(t.pid, t.token))) {
      expect(Date.now(), "the crash knob did not stop the processes").to.be.below(deadline);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const before = await metrics();
    const tally = await sendRequests(lb.url, 100);
    const after = await metrics();
    expect(tally.failures).to.deep.equal([]);
    expect(tally.byStatus).to.deep.equal({ "200": 50, "502": 50 });
    const greenGroup = lb.targetGroups.green;
    const delta = (key: "requests" | "errors5xx" | "connectionErrors") =>
      after.targetGroups[greenGroup].totals[key] - before.targetGroups[greenGroup].totals[key];
    expect([delta("requests"), delta("connectionErrors"), delta("errors5xx")]).to.deep.equal([
      50, 50, 0,
    ]);
    expect(after.loadBalancer.totals.errors5xx - before.loadBalancer.totals.errors5xx).to.equal(50);

    // The balancer's health checks (every second, two failures in a row) find them unhealthy.
    let latest = after.targetGroups[greenGroup].minutes.at(-1);
    while ((latest?.unhealthyHosts ?? 0) < 2) {
      expect(Date.now(), "the dead targets were not reported unhealthy").to.be.below(
        deadline + 10_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      latest = (await metrics()).targetGroups[greenGroup].minutes.at(-1);
    }
    expect(latest).to.deep.include({ unhealthyHosts: 2, healthyHosts: 0 });
    const ts = { ...taskSetInputs("green", "7.0.0"), crashAfterMs: 1500 };
    expect((await taskSetImpl.diff(green.taskSetId, green, ts)).replaces).to.deep.equal(["tasks"]);
    await lbImpl.delete(id, lb);
    created.pop();
  });

  it("fails create with the balancer's own message when a fixed port is taken, leaving no process", async () => {
    const other = await pool.service("1.0.0");
    const inputs: LoadBalancerInputs = {
      stack: `unit-${process.pid}`,
      name: "canary",
      listenPort: other.proc.ports.port,
      metricsIntervalMs: 60_000,
      stateDir: pool.dir,
      weights: { blue: 100, green: 0 },
      targets: { blue: [], green: [] },
    };
    let error: Error | undefined;
    await lbImpl.create(inputs).catch((err: Error) => (error = err));
    expect(error?.message).to.match(/exited before it was ready[\s\S]*EADDRINUSE/);
    const balancers = processesMatching(`--instance=ecs-canary/unit-${process.pid}/lb-`);
    expect(balancers).to.deep.equal([]);
  });
});
