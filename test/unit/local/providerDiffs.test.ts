import { expect } from "chai";
import { diffLoadBalancer, diffTaskSet } from "../../../infra/local/providers/providerDiffs";
import {
  LoadBalancerInputs,
  LoadBalancerState,
  TaskSetInputs,
  TaskSetState,
} from "../../../infra/local/providers/resourceShapes";

const taskSetInputs: TaskSetInputs = {
  stack: "s",
  color: "green",
  version: "1.0.1",
  errorRate: 0,
  latencyMs: 0,
  crashAfterMs: 0,
  count: 2,
  stateDir: "/tmp/a",
};
const taskSetState: TaskSetState = {
  ...taskSetInputs,
  taskSetId: "ts-green-1",
  tasks: [],
  targets: [],
  runningTasks: 2,
};

describe("diffTaskSet", () => {
  it("reports no change when nothing that runs changed (the log folder may move)", () => {
    expect(diffTaskSet(taskSetState, { ...taskSetInputs, stateDir: "/tmp/b" }, true)).to.deep.equal(
      {
        changes: false,
        replaces: [],
        deleteBeforeReplace: false,
      },
    );
  });

  for (const [key, value] of [
    ["version", "2.0.0"],
    ["errorRate", 0.2],
    ["latencyMs", 100],
    ["count", 3],
  ] as const) {
    it(`replaces the task set, new one first, when ${key} changes`, () => {
      expect(diffTaskSet(taskSetState, { ...taskSetInputs, [key]: value }, true)).to.deep.equal({
        changes: true,
        replaces: [key],
        deleteBeforeReplace: false,
      });
    });
  }

  it("replaces the task set when the crash knob changes", () => {
    expect(diffTaskSet(taskSetState, { ...taskSetInputs, crashAfterMs: 5000 }, true)).to.deep.equal(
      { changes: true, replaces: ["crashAfterMs"], deleteBeforeReplace: false },
    );
  });

  it("reads a state recorded before the crash knob existed as crashAfterMs 0: no replacement", () => {
    const { crashAfterMs: _dropped, ...older } = taskSetState;
    expect(_dropped).to.equal(0);
    const olds = older as TaskSetState;
    expect(diffTaskSet(olds, taskSetInputs, true)).to.deep.equal({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(diffTaskSet(olds, { ...taskSetInputs, crashAfterMs: 1 }, true).replaces).to.deep.equal([
      "crashAfterMs",
    ]);
  });

  it("replaces the task set when one of its processes is gone", () => {
    expect(diffTaskSet(taskSetState, taskSetInputs, false).replaces).to.deep.equal(["tasks"]);
  });
});

const lbInputs: LoadBalancerInputs = {
  stack: "s",
  name: "canary",
  listenPort: 0,
  metricsIntervalMs: 60_000,
  stateDir: "/tmp/a",
  weights: { blue: 100, green: 0 },
  targets: { blue: ["http://127.0.0.1:1"], green: ["http://127.0.0.1:2"] },
};
const lbState: LoadBalancerState = {
  ...lbInputs,
  balancerId: "lb-1",
  pid: 1,
  token: "t",
  logFile: "/tmp/a/lb-1.log",
  port: 8080,
  adminPort: 8081,
  url: "http://127.0.0.1:8080",
  adminUrl: "http://127.0.0.1:8081",
  targetGroups: { blue: "targetgroup/blue/1", green: "targetgroup/green/1" },
  applied: { revision: 1, weights: lbInputs.weights, targets: lbInputs.targets },
  running: true,
};
const live = { running: true, routing: lbState.applied };

describe("diffLoadBalancer", () => {
  it("reports no change when the applied and live rules are what is asked for", () => {
    expect(diffLoadBalancer(lbState, lbInputs, live)).to.deep.equal({
      changes: false,
      replaces: [],
    });
  });

  it("updates in place when weights or targets change", () => {
    const weights = { ...lbInputs, weights: { blue: 70, green: 30 } };
    const targets = {
      ...lbInputs,
      targets: { ...lbInputs.targets, green: ["http://127.0.0.1:3"] },
    };
    expect(diffLoadBalancer(lbState, weights, live)).to.deep.equal({ changes: true, replaces: [] });
    expect(diffLoadBalancer(lbState, targets, live)).to.deep.equal({ changes: true, replaces: [] });
  });

  it("updates in place when the live rule drifted from the recorded one", () => {
    const drifted = {
      running: true,
      routing: { ...lbState.applied, weights: { blue: 0, green: 100 } },
    };
    expect(diffLoadBalancer(lbState, lbInputs, drifted).changes).to.equal(true);
  });

  it("relies on the recorded rule when the live one cannot be read", () => {
    expect(diffLoadBalancer(lbState, lbInputs, { running: true }).changes).to.equal(false);
  });

  it("replaces a dead balancer, deleting the old record first so a fixed port is free", () => {
    expect(diffLoadBalancer(lbState, lbInputs, { running: false })).to.deep.equal({
      changes: true,
      replaces: ["pid"],
      deleteBeforeReplace: true,
    });
  });

  it("replaces the balancer for a new fixed port but keeps a picked port when asked for 0", () => {
    expect(
      diffLoadBalancer(lbState, { ...lbInputs, listenPort: 9000 }, live).replaces,
    ).to.deep.equal(["listenPort"]);
    expect(diffLoadBalancer({ ...lbState, listenPort: 8080 }, lbInputs, live).changes).to.equal(
      false,
    );
    expect(diffLoadBalancer(lbState, { ...lbInputs, listenPort: 8080 }, live).changes).to.equal(
      false,
    );
  });
});
