import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { Registered, REGION, runUnderMocks } from "./mockProgram";

// Through the package's own name, as another program imports it (package.json `exports`).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const canary = require("ecs-canary/aws") as typeof import("../../../infra/aws");

const PACKAGE_ROOT = path.resolve(__dirname, "..", "..", "..", "..");

const TG = "aws:lb/targetGroup:TargetGroup";
const TASK_SET = "aws:ecs/taskSet:TaskSet";

/** Another team's program: its own VPC and subnets, and the canary topology in it. */
function shopProgram(args: Partial<import("../../../infra/aws").AwsCanaryTopologyArgs> = {}) {
  const vpc = new aws.ec2.Vpc("shop", { cidrBlock: "10.20.0.0/16", enableDnsHostnames: true });
  const subnets = (tier: string, offset: number) =>
    ["eu-west-1a", "eu-west-1b"].map(
      (availabilityZone, i) =>
        new aws.ec2.Subnet(`shop-${tier}-${i}`, {
          vpcId: vpc.id,
          cidrBlock: `10.20.${offset + i}.0/24`,
          availabilityZone,
          mapPublicIpOnLaunch: tier === "public",
        }),
    );
  const publicSubnets = subnets("public", 0);
  const privateSubnets = subnets("private", 10);
  const topology = new canary.AwsCanaryTopology("shop", {
    vpc: {
      vpcId: vpc.id,
      albSubnetIds: publicSubnets.map((s) => s.id),
      taskSubnetIds: pulumi.all(privateSubnets.map((s) => s.id)),
    },
    cluster: "arn:aws:ecs:eu-west-1:123456789012:cluster/shop",
    stableColor: "blue",
    canaryWeight: pulumi.output(20),
    colors: {
      blue: { image: "registry.example.com/shop/web:1.4.0", version: "1.4.0" },
      green: { image: "registry.example.com/shop/web:1.5.0", version: pulumi.output("1.5.0") },
    },
    containerPort: 8080,
    desiredCount: 4,
    ...args,
  });
  // What the program exports: the topology's outputs, under the names the driver reads.
  return { outputs: topology.outputs, vpcId: vpc.id };
}

function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

function ofType(resources: Registered[], type: string): Registered[] {
  return resources.filter((r) => r.type === type);
}

describe("the AWS components in another program (package export, Pulumi mocks)", function () {
  this.timeout(60_000);

  it("resolves ecs-canary/aws to the built components and their type declarations", () => {
    expect(require.resolve("ecs-canary/aws")).to.equal(
      path.join(PACKAGE_ROOT, "build", "infra", "aws", "index.js"),
    );
    const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8"));
    const types = manifest.exports["./aws"].types as string;
    expect(fs.existsSync(path.join(PACKAGE_ROOT, types)), types).to.equal(true);
    expect(manifest.typesVersions["*"].aws).to.deep.equal([types.replace(/^\.\//, "")]);
    expect(require.resolve("ecs-canary")).to.equal(path.join(PACKAGE_ROOT, manifest.main));
  });

  it("builds the topology in the program's own VPC and subnets, passed as Outputs", async () => {
    const { result, resources } = await runUnderMocks(async () => {
      const { outputs, vpcId } = shopProgram();
      return { outputs: await resolved(outputs), vpcId: await resolved(vpcId) };
    });
    const { outputs, vpcId } = result;
    const ids = (prefix: string) => [0, 1].map((i) => `${prefix}-${i}-id`);

    expect(ofType(resources, "awsx:ec2:Vpc"), "no VPC of its own").to.have.length(0);
    expect(ofType(resources, "aws:ec2/vpc:Vpc").map((r) => r.name)).to.deep.equal(["shop"]);
    expect(ofType(resources, "aws:ecs/cluster:Cluster"), "the named cluster").to.have.length(0);
    for (const sg of ofType(resources, "aws:ec2/securityGroup:SecurityGroup")) {
      expect(sg.inputs.vpcId, sg.name).to.equal(vpcId);
    }
    for (const tg of ofType(resources, TG)) expect(tg.inputs.vpcId, tg.name).to.equal(vpcId);
    const [lb] = ofType(resources, "aws:lb/loadBalancer:LoadBalancer");
    expect(lb.inputs.subnets).to.deep.equal(ids("shop-public"));
    for (const taskSet of ofType(resources, TASK_SET)) {
      expect(taskSet.inputs.networkConfiguration).to.deep.include({
        subnets: ids("shop-private"),
      });
      expect(taskSet.inputs.cluster).to.equal("arn:aws:ecs:eu-west-1:123456789012:cluster/shop");
    }
    const [rule] = ofType(resources, "aws:lb/listenerRule:ListenerRule");
    const forward = (
      rule.inputs.actions as { forward: { targetGroups: { weight: number }[] } }[]
    )[0].forward.targetGroups;
    expect(forward.map((g) => g.weight)).to.deep.equal([80, 20]);

    const topology = resources.find((r) => r.type === "ecs-canary:aws:AwsCanaryTopology");
    expect(topology?.urn).to.equal(
      "urn:pulumi:test::ecs-canary::ecs-canary:aws:AwsCanaryTopology::shop",
    );
    expect(
      resources.filter((r) => r.parentUrn === topology?.urn).map((r) => r.type),
    ).to.have.members([
      "ecs-canary:aws:CanaryNetwork",
      "ecs-canary:aws:WeightedLoadBalancer",
      "ecs-canary:aws:ExternalService",
    ]);

    const groups = Object.fromEntries(
      (["blue", "green"] as const).map((c) => [
        c,
        ofType(resources, TG).find((tg) => tg.name === `shop-${c}`)!.state,
      ]),
    );
    expect(outputs).to.deep.equal({
      platform: "aws",
      url: `http://${lb.state.dnsName}`,
      canaryWeight: 20,
      stableColor: "blue",
      canaryColor: "green",
      weights: { blue: 80, green: 20 },
      blue: {
        version: "1.4.0",
        targetGroupArn: groups.blue.arn,
        targetGroupArnSuffix: groups.blue.arnSuffix,
        taskSetId: "ecs-svc/shop-blue",
        scale: 100,
      },
      green: {
        version: "1.5.0",
        targetGroupArn: groups.green.arn,
        targetGroupArnSuffix: groups.green.arnSuffix,
        taskSetId: "ecs-svc/shop-green",
        scale: 100,
      },
      loadBalancerArnSuffix: lb.state.arnSuffix,
      listenerRuleArn: rule.state.arn,
      containerPort: 8080,
      vpcId,
      vpcCreated: false,
      clusterName: "shop",
      serviceName: "shop-svc",
      region: REGION,
      metricsSource: {
        kind: "cloudwatch",
        intervalSeconds: 60,
        settleSeconds: 180,
        region: REGION,
        loadBalancerArnSuffix: lb.state.arnSuffix,
        targetGroupArnSuffixes: { blue: groups.blue.arnSuffix, green: groups.green.arnSuffix },
      },
    });
  });

  for (const [args, message] of [
    [{ canaryWeight: 101 }, 'invalid setting canaryWeight="101": must be an integer from 0 to 100'],
    [
      { canaryWeight: 10, canaryScale: 0 },
      'invalid setting canaryWeight="10": must be 0 while canaryScale is 0 (the canary colour has no tasks); set canaryScale first',
    ],
    [
      {
        colors: {
          blue: { image: "repo/app:1", version: "1.0 beta" },
          green: { image: "repo/app:2", version: "2" },
        },
      },
      'invalid setting colors.blue.version="1.0 beta": must be 1-128 characters of letters, digits and . _ + -, starting with a letter or digit',
    ],
    [
      { vpc: { vpcId: "vpc-1", albSubnetIds: ["subnet-a"], taskSubnetIds: ["subnet-b"] } },
      'invalid setting albSubnetIds="subnet-a": needs two or more public subnets, in different Availability Zones, when vpcId is set',
    ],
    [
      { listenerPort: 443, certificateArn: "arn:aws:iam::123456789012:server-certificate/shop" },
      'invalid setting listenerPort="443": must not be 443 when certificateArn is set (the HTTPS listener takes 443; listenerPort redirects to it)',
    ],
    [
      { deregistrationDelaySeconds: 3601 },
      'invalid setting deregistrationDelaySeconds="3601": must be an integer from 0 to 3600',
    ],
  ] as const) {
    it(`refuses ${JSON.stringify(args)} before registering anything of its own`, async () => {
      let error: Error | undefined;
      const { resources } = await runUnderMocks(() => {
        const vpc = new aws.ec2.Vpc("shop", { cidrBlock: "10.20.0.0/16" });
        try {
          new canary.AwsCanaryTopology("shop", {
            vpc: { vpcId: vpc.id, albSubnetIds: ["subnet-a", "subnet-b"], taskSubnetIds: ["c"] },
            stableColor: "blue",
            canaryWeight: 0,
            colors: {
              blue: { image: "repo/app:1", version: "1" },
              green: { image: "repo/app:2", version: "2" },
            },
            ...(args as object),
          });
        } catch (thrown) {
          error = thrown as Error;
        }
      });
      expect(error?.message).to.equal(message);
      expect(error).to.be.instanceOf(canary.ConfigError);
      expect(resources.map((r) => r.type)).to.deep.equal(["aws:ec2/vpc:Vpc"]);
    });
  }
});
