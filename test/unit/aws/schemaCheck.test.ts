import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import { expect } from "chai";
import { runUnderMocks } from "./mockProgram";
import { argsLocation, checkResourceInputs, formatViolation } from "./schemaCheck";

const TG = "aws:lb/targetGroup:TargetGroup";

async function refusal(body: () => unknown): Promise<string> {
  try {
    await runUnderMocks(body);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("the mocks accepted the resource");
}

describe("schema-checked mocks: inputs against the installed @pulumi/aws and @pulumi/awsx typings", function () {
  this.timeout(60_000);

  it("maps a type token to the file and interface that declare its inputs", () => {
    expect(argsLocation(TG)).to.deep.equal({
      packageName: "@pulumi/aws",
      file: "lb/targetGroup.d.ts",
      interfaceName: "TargetGroupArgs",
    });
    expect(argsLocation("awsx:ec2:Vpc")).to.deep.equal({
      packageName: "@pulumi/awsx",
      file: "ec2/index.d.ts",
      interfaceName: "VpcArgs",
    });
    expect(argsLocation("aws:index/provider:Provider")?.file).to.equal("provider.d.ts");
    expect(argsLocation("gcp:compute/instance:Instance")).to.equal(undefined);
  });

  it("fails a mock run whose resource has a misspelled nested key, naming resource, path and the keys allowed", async () => {
    // Spread from an untyped constant, as the seed's health check was: tsc cannot see it.
    const healthCheck = { path: "/", intervalSeconds: 30 };
    const message = await refusal(
      () => new aws.lb.TargetGroup("tg", { port: 4000, protocol: "HTTP", healthCheck }),
    );
    expect(message).to.equal(
      "inputs the provider would refuse:\n" +
        `  ${TG} "tg": healthCheck.intervalSeconds: unknown key; TargetGroupHealthCheck allows ` +
        "enabled, healthyThreshold, interval, matcher, path, port, protocol, timeout, unhealthyThreshold",
    );
  });

  it("fails a value of the wrong kind, nested in an array", async () => {
    const fromConfig: unknown = "80";
    const message = await refusal(
      () =>
        new aws.ec2.SecurityGroup("sg", {
          ingress: [{ protocol: "tcp", fromPort: fromConfig as number, toPort: 80 }],
        }),
    );
    expect(message).to.equal(
      "inputs the provider would refuse:\n" +
        '  aws:ec2/securityGroup:SecurityGroup "sg": ingress[0].fromPort: string "80" where number is declared',
    );
  });

  it("fails a missing required input and a value outside a declared set of literals", () => {
    const violations = checkResourceInputs("awsx:ec2:Vpc", "vpc", {
      natGateways: { strategy: "single" },
    }).concat(checkResourceInputs("aws:ecs/taskSet:TaskSet", "ts", { cluster: "c", service: "s" }));
    expect(violations.map(formatViolation)).to.deep.equal([
      'awsx:ec2:Vpc "vpc": natGateways.strategy: "single" where "None" | "Single" | "OnePerAz" is declared',
      'aws:ecs/taskSet:TaskSet "ts": taskDefinition: required by TaskSetArgs but missing',
    ]);
  });

  it("checks the container definitions a task definition carries as JSON", () => {
    const containerDefinitions = JSON.stringify([
      { name: "app", image: "x", portMappings: [{ containerPort: 80, protocol: "TCP" }], cpus: 1 },
    ]);
    const violations = checkResourceInputs("aws:ecs/taskDefinition:TaskDefinition", "td", {
      family: "f",
      containerDefinitions,
    });
    expect(violations.map((v) => v.path)).to.deep.equal([
      "containerDefinitions[0].portMappings[0].protocol",
      "containerDefinitions[0].cpus",
    ]);
  });

  it("accepts what the typings allow (unions, maps, literals, nested arrays) and skips our own components", async () => {
    const { resources } = await runUnderMocks(() => {
      new awsx.ec2.Vpc("vpc", { natGateways: { strategy: awsx.ec2.NatGatewayStrategy.Single } });
      new aws.lb.ListenerRule("rule", {
        listenerArn: "arn",
        conditions: [{ pathPattern: { values: ["/*"] } }],
        actions: [
          {
            type: "forward",
            forward: { targetGroups: [{ arn: "a", weight: 1 }], stickiness: { duration: 1 } },
          },
        ],
        tags: { team: "x" },
      });
    });
    expect(resources.map((r) => r.type)).to.deep.equal([
      "awsx:ec2:Vpc",
      "aws:lb/listenerRule:ListenerRule",
    ]);
    expect(checkResourceInputs("ecs-canary:aws:Anything", "x", { whatever: 1 })).to.deep.equal([]);
    expect(checkResourceInputs("pulumi-nodejs:dynamic/local:TaskSet", "x", {})).to.deep.equal([]);
    expect(checkResourceInputs("pulumi-nodejs:dynamic/other:Thing", "x", {})).to.have.length(1);
    expect(checkResourceInputs("gcp:compute/instance:Instance", "x", {})).to.have.length(1);
  });
});
