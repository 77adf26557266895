import { expect } from "chai";
import { AwsAsked, awsStackOutputs, AwsFacts } from "../../../infra/aws/outputs";

const asked: AwsAsked = {
  stableColor: "green",
  canaryWeight: 30,
  versions: { blue: "2.0.0", green: "1.0.0" },
  containerPort: 8080,
  vpcCreated: false,
  metricsSettleSeconds: 180,
};

const facts: AwsFacts = {
  url: "https://canary-1234567890.eu-west-1.elb.amazonaws.com",
  appliedWeights: { blue: 30, green: 70 },
  targetGroups: {
    blue: {
      arn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/canary-blue/73e2d6bc24d8a067",
      arnSuffix: "targetgroup/canary-blue/73e2d6bc24d8a067",
    },
    green: {
      arn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/canary-green/0f1e2d3c4b5a6978",
      arnSuffix: "targetgroup/canary-green/0f1e2d3c4b5a6978",
    },
  },
  taskSets: {
    blue: { taskSetId: "ecs-svc/1111", scale: 50 },
    green: { taskSetId: "ecs-svc/2222", scale: 100 },
  },
  loadBalancerArnSuffix: "app/canary/50dc6c495c0c9188",
  listenerRuleArn:
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/canary/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee",
  vpcId: "vpc-04fb5b2e72c17ca68",
  clusterName: "mattctest",
  serviceName: "canary-7c1a",
  region: "eu-west-1",
};

describe("awsStackOutputs", () => {
  it("makes the stack outputs from what was asked and what AWS reports", () => {
    expect(awsStackOutputs(asked, facts)).to.deep.equal({
      platform: "aws",
      url: facts.url,
      canaryWeight: 30,
      stableColor: "green",
      canaryColor: "blue",
      weights: { blue: 30, green: 70 },
      blue: {
        version: "2.0.0",
        targetGroupArn: facts.targetGroups.blue.arn,
        targetGroupArnSuffix: "targetgroup/canary-blue/73e2d6bc24d8a067",
        taskSetId: "ecs-svc/1111",
        scale: 50,
      },
      green: {
        version: "1.0.0",
        targetGroupArn: facts.targetGroups.green.arn,
        targetGroupArnSuffix: "targetgroup/canary-green/0f1e2d3c4b5a6978",
        taskSetId: "ecs-svc/2222",
        scale: 100,
      },
      loadBalancerArnSuffix: "app/canary/50dc6c495c0c9188",
      listenerRuleArn: facts.listenerRuleArn,
      containerPort: 8080,
      vpcId: "vpc-04fb5b2e72c17ca68",
      vpcCreated: false,
      clusterName: "mattctest",
      serviceName: "canary-7c1a",
      region: "eu-west-1",
      metricsSource: {
        kind: "cloudwatch",
        intervalSeconds: 60,
        settleSeconds: 180,
        region: "eu-west-1",
        loadBalancerArnSuffix: "app/canary/50dc6c495c0c9188",
        targetGroupArnSuffixes: {
          blue: "targetgroup/canary-blue/73e2d6bc24d8a067",
          green: "targetgroup/canary-green/0f1e2d3c4b5a6978",
        },
      },
    });
  });

  it("takes the weights and scales from what AWS reports, not from what was asked", () => {
    const drifted = awsStackOutputs(asked, {
      ...facts,
      appliedWeights: { blue: 0, green: 100 },
      taskSets: { ...facts.taskSets, blue: { taskSetId: "ecs-svc/1111", scale: 0 } },
    });
    expect(drifted.weights).to.deep.equal({ blue: 0, green: 100 });
    expect(drifted.canaryWeight).to.equal(30);
    expect(drifted.blue.scale).to.equal(0);
  });
});
