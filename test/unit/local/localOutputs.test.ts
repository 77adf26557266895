import { expect } from "chai";
import { parseSettings } from "../../../infra/contract/settings";
import { localStackOutputs } from "../../../infra/local/program/outputs";
import { taskCount } from "../../../infra/local/program/topology";
import { scalesFor } from "../../../infra/contract/weights";

const settings = parseSettings(
  (key) =>
    ({ platform: "local", stableColor: "green", canaryWeight: "30", canaryScale: "50" })[key],
);

describe("localStackOutputs", () => {
  const outputs = localStackOutputs(settings, {
    name: "canary",
    balancer: {
      balancerId: "lb-0a1b2c3d4e5f",
      url: "http://127.0.0.1:8080",
      adminUrl: "http://127.0.0.1:8081",
      targetGroups: {
        blue: "targetgroup/blue/0a1b2c3d4e5f",
        green: "targetgroup/green/0a1b2c3d4e5f",
      },
      appliedWeights: { blue: 30, green: 70 },
    },
    taskSets: {
      blue: { taskSetId: "ts-blue-1", version: "2.0.0" },
      green: { taskSetId: "ts-green-2", version: "1.0.0" },
    },
  });

  it("fills the AWS-shaped outputs with local identifiers", () => {
    expect(outputs).to.deep.equal({
      platform: "local",
      url: "http://127.0.0.1:8080",
      canaryWeight: 30,
      stableColor: "green",
      canaryColor: "blue",
      weights: { blue: 30, green: 70 },
      blue: {
        version: "2.0.0",
        targetGroupArn: "local:targetgroup/blue/0a1b2c3d4e5f",
        targetGroupArnSuffix: "targetgroup/blue/0a1b2c3d4e5f",
        taskSetId: "ts-blue-1",
        scale: 50,
      },
      green: {
        version: "1.0.0",
        targetGroupArn: "local:targetgroup/green/0a1b2c3d4e5f",
        targetGroupArnSuffix: "targetgroup/green/0a1b2c3d4e5f",
        taskSetId: "ts-green-2",
        scale: 100,
      },
      loadBalancerArnSuffix: "app/canary/0a1b2c3d4e5f",
      listenerRuleArn: "local:listener-rule/app/canary/0a1b2c3d4e5f/forward",
      containerPort: 4000,
      vpcId: "local",
      vpcCreated: true,
      clusterName: "local",
      serviceName: "canary-service",
      region: "local",
      metricsSource: {
        kind: "local",
        intervalSeconds: 60,
        settleSeconds: 0,
        adminUrl: "http://127.0.0.1:8081",
        targetGroupArnSuffixes: {
          blue: "targetgroup/blue/0a1b2c3d4e5f",
          green: "targetgroup/green/0a1b2c3d4e5f",
        },
      },
    });
  });

  it("takes the weights from what the balancer applied, not from the setting", () => {
    const drifted = localStackOutputs(settings, {
      name: "canary",
      balancer: {
        balancerId: "lb-1",
        url: "u",
        adminUrl: "a",
        targetGroups: { blue: "b", green: "g" },
        appliedWeights: { blue: 0, green: 100 },
      },
      taskSets: { blue: { taskSetId: "1", version: "v" }, green: { taskSetId: "2", version: "v" } },
    });
    expect(drifted.weights).to.deep.equal({ blue: 0, green: 100 });
    expect(drifted.canaryWeight).to.equal(30);
  });
});

describe("task counts", () => {
  it("runs desiredCount x scale tasks, rounded up, the stable colour at 100 %", () => {
    expect(scalesFor(settings.stableColor, settings.canaryScale)).to.deep.equal({
      green: 100,
      blue: 50,
    });
    expect(taskCount(2, 100)).to.equal(2);
    expect(taskCount(3, 50)).to.equal(2);
    expect(taskCount(2, 0)).to.equal(0);
  });
});
