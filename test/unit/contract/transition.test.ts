import { expect } from "chai";
import { parseSettings } from "../../../infra/contract/settings";
import { StackOutputs } from "../../../infra/contract/outputs";
import { unsafeChange } from "../../../infra/contract/transition";

const settings = (values: Record<string, string>) => parseSettings((key) => values[key]);

/** Outputs of a deployed stack: blue stable at 100 %, green canary at `greenScale`. */
function deployed(greenScale: number, extra: Partial<StackOutputs> = {}): StackOutputs {
  const color = (scale: number, version: string) => ({
    version,
    targetGroupArn: "arn",
    targetGroupArnSuffix: "targetgroup/x/1",
    taskSetId: "ts",
    scale,
  });
  return {
    platform: "aws",
    url: "http://lb",
    canaryWeight: 0,
    stableColor: "blue",
    canaryColor: "green",
    weights: { blue: 100, green: 0 },
    blue: color(100, "1.0.0"),
    green: color(greenScale, "1.0.1"),
    loadBalancerArnSuffix: "app/lb/1",
    listenerRuleArn: "rule",
    containerPort: 4000,
    vpcId: "vpc-created",
    vpcCreated: true,
    clusterName: "c",
    serviceName: "s",
    region: "us-east-1",
    metricsSource: {
      kind: "cloudwatch",
      intervalSeconds: 60,
      settleSeconds: 180,
      region: "us-east-1",
      loadBalancerArnSuffix: "app/lb/1",
      targetGroupArnSuffixes: { blue: "targetgroup/b/1", green: "targetgroup/g/1" },
    },
    ...extra,
  };
}

describe("unsafeChange: what one update cannot do without an outage", () => {
  it("allows anything on a stack that was never deployed", () => {
    expect(
      unsafeChange(undefined, settings({ canaryWeight: "50", containerPort: "8080" })),
    ).to.equal(undefined);
  });

  it("allows weights to colours whose task sets run", () => {
    expect(unsafeChange(deployed(100), settings({ canaryWeight: "50" }))).to.equal(undefined);
    expect(unsafeChange(deployed(100), settings({ stableColor: "green" }))).to.equal(undefined);
  });

  it("refuses traffic to a colour whose task set has no tasks, even if the same update scales it up", () => {
    const scaledDown = deployed(0);
    expect(unsafeChange(scaledDown, settings({ canaryWeight: "10", canaryScale: "100" }))).to.equal(
      "green would get 10% of traffic but its task set has no tasks (scale 0); " +
        "scale it up first (canaryScale=100 at canaryWeight=0) and wait until it is healthy",
    );
    // A flip of the stable colour to the scaled-down colour gives it 100 %.
    expect(unsafeChange(scaledDown, settings({ stableColor: "green" }))).to.match(
      /^green would get 100% of traffic/,
    );
    // Scaling it up at weight 0 is the safe first step.
    expect(unsafeChange(scaledDown, settings({ canaryWeight: "0", canaryScale: "100" }))).to.equal(
      undefined,
    );
  });

  it("refuses a new container port or VPC on a deployed stack", () => {
    expect(unsafeChange(deployed(100), settings({ containerPort: "8080" }))).to.equal(
      "containerPort 4000 -> 8080 would replace both target groups and cut all traffic " +
        "until the task sets follow; deploy it as a new stack instead",
    );
    const existing = { vpcId: "vpc-2", subnetIds: "subnet-a", albSubnetIds: "subnet-b,subnet-c" };
    expect(unsafeChange(deployed(100), settings(existing))).to.match(
      /^vpcId \(created\) -> vpc-2 would replace both target groups/,
    );
    const onVpc1 = deployed(100, { vpcId: "vpc-1", vpcCreated: false });
    expect(unsafeChange(onVpc1, settings({ ...existing, vpcId: "vpc-1" }))).to.equal(undefined);
    expect(unsafeChange(onVpc1, settings(existing))).to.match(/^vpcId vpc-1 -> vpc-2 /);
    expect(unsafeChange(onVpc1, settings({}))).to.match(/^vpcId vpc-1 -> \(created\) /);
  });

  it("says nothing about outputs of stacks deployed before they carried scale, port and VPC", () => {
    const old = deployed(0) as unknown as Record<string, unknown>;
    delete old.containerPort;
    delete old.vpcId;
    delete old.vpcCreated;
    for (const c of ["blue", "green"]) delete (old[c] as Record<string, unknown>).scale;
    const next = settings({ canaryWeight: "10", containerPort: "8080" });
    expect(unsafeChange(old as unknown as StackOutputs, next)).to.equal(undefined);
  });
});

describe("settings that no update may apply", () => {
  const refused = (values: Record<string, string>) => {
    try {
      settings(values);
    } catch (err) {
      return (err as Error).message;
    }
    return "accepted";
  };

  it("refuses versions and images that are not one token", () => {
    expect(refused({ greenVersion: "1.0.1\nrm -rf" })).to.equal(
      'invalid setting greenVersion="1.0.1\\nrm -rf": must be 1-128 characters of letters, digits and . _ + -, starting with a letter or digit',
    );
    expect(refused({ blueVersion: "1.0 beta" })).to.match(/^invalid setting blueVersion=/);
    expect(refused({ image: "repo/name:tag latest" })).to.match(
      /^invalid setting image="repo\/name:tag latest": must be a container image reference/,
    );
    expect(refused({ greenImage: "Repo/Upper" })).to.match(/^invalid setting greenImage=/);
  });

  it("accepts the versions and images people use", () => {
    for (const version of ["1.0.1", "1.0.1-rc1", "1.0.1+build.7", "v2", "2026.11.26_1"]) {
      expect(settings({ greenVersion: version }).green.version).to.equal(version);
    }
    for (const image of [
      "octopussamples/helloworldwithversion",
      "nginx",
      "nginx:1.27-alpine",
      "public.ecr.aws/nginx/nginx:latest",
      "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0.1",
      "localhost:5000/app@sha256:" + "a".repeat(64),
    ]) {
      expect(settings({ blueImage: image }).blue.image).to.equal(image);
    }
  });

  it("refuses weight for a canary colour scaled to 0", () => {
    expect(refused({ canaryWeight: "10", canaryScale: "0" })).to.equal(
      'invalid setting canaryWeight="10": must be 0 while canaryScale is 0 (the canary colour has no tasks); set canaryScale first',
    );
    expect(settings({ canaryWeight: "0", canaryScale: "0" }).canaryScale).to.equal(0);
  });

  it("needs two or more load-balancer subnets with an existing VPC", () => {
    const base = { vpcId: "vpc-1", subnetIds: "subnet-a,subnet-b" };
    expect(refused(base)).to.equal(
      'invalid setting albSubnetIds="": needs two or more public subnets, in different Availability Zones, when vpcId is set',
    );
    expect(refused({ ...base, albSubnetIds: "subnet-c" })).to.match(
      /^invalid setting albSubnetIds="subnet-c"/,
    );
    expect(
      settings({ ...base, albSubnetIds: "subnet-c,subnet-d" }).network.albSubnetIds,
    ).to.deep.equal(["subnet-c", "subnet-d"]);
  });

  it("takes the settle delay of the platform unless set", () => {
    expect(settings({}).metricsSettleSeconds).to.equal(180);
    expect(settings({ metricsSettleSeconds: "" }).metricsSettleSeconds).to.equal(180);
    expect(settings({ platform: "local" }).metricsSettleSeconds).to.equal(0);
    expect(
      settings({ platform: "local", metricsSettleSeconds: "20" }).metricsSettleSeconds,
    ).to.equal(20);
    expect(refused({ metricsSettleSeconds: "-1" })).to.equal(
      'invalid setting metricsSettleSeconds="-1": must be an integer from 0 to 3600',
    );
  });

  it("takes an ACM or IAM certificate ARN and refuses anything else", () => {
    const acm =
      "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab";
    expect(settings({ certificateArn: acm }).certificateArn).to.equal(acm);
    expect(settings({ certificateArn: "" }).certificateArn).to.equal(undefined);
    expect(refused({ certificateArn: "my-cert" })).to.match(
      /^invalid setting certificateArn="my-cert": must be an ACM certificate ARN/,
    );
  });
});
