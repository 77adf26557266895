import { expect } from "chai";
import { Color } from "../../../infra/config";
import { Registered, REGION, runProgram, ProgramRun } from "./mockProgram";

const TG = "aws:lb/targetGroup:TargetGroup";
const RULE = "aws:lb/listenerRule:ListenerRule";
const TASK_SET = "aws:ecs/taskSet:TaskSet";
const TASK_DEF = "aws:ecs/taskDefinition:TaskDefinition";
const SG = "aws:ec2/securityGroup:SecurityGroup";

const base = { blueVersion: "1.0.0", greenVersion: "1.0.1" };

function targetGroupOf(run: ProgramRun, color: Color): Registered {
  const found = run
    .ofType(TG)
    .filter((r) => (r.inputs.tags as Record<string, string>)["ecs-canary:color"] === color);
  expect(found, `target group of ${color}`).to.have.length(1);
  return found[0];
}

function forwardedWeights(run: ProgramRun): { arn: string; weight: number }[] {
  const rule = run.one(RULE);
  const actions = rule.inputs.actions as {
    type: string;
    forward: { targetGroups: { arn: string; weight: number }[] };
  }[];
  expect(actions).to.have.length(1);
  expect(actions[0].type).to.equal("forward");
  return actions[0].forward.targetGroups;
}

describe("AWS topology (Pulumi mocks)", function () {
  this.timeout(20_000);

  for (const stableColor of ["blue", "green"] as const) {
    for (const canaryWeight of [0, 10, 50, 100]) {
      it(`forwards ${100 - canaryWeight}/${canaryWeight} to stable ${stableColor} / canary at canaryWeight ${canaryWeight}`, async () => {
        const run = await runProgram({ ...base, stableColor, canaryWeight: String(canaryWeight) });
        const canaryColor: Color = stableColor === "blue" ? "green" : "blue";
        const groups = forwardedWeights(run);
        const stableArn = targetGroupOf(run, stableColor).state.arn;
        const canaryArn = targetGroupOf(run, canaryColor).state.arn;

        expect(groups.map((g) => g.arn)).to.have.members([stableArn, canaryArn]);
        expect(groups.reduce((sum, g) => sum + g.weight, 0)).to.equal(100);
        expect(groups.find((g) => g.arn === stableArn)?.weight).to.equal(100 - canaryWeight);
        expect(groups.find((g) => g.arn === canaryArn)?.weight).to.equal(canaryWeight);

        expect(run.outputs.canaryWeight).to.equal(canaryWeight);
        expect(run.outputs.stableColor).to.equal(stableColor);
        expect(run.outputs.canaryColor).to.equal(canaryColor);
        expect(run.outputs.weights[stableColor]).to.equal(100 - canaryWeight);
        expect(run.outputs.weights[canaryColor]).to.equal(canaryWeight);
      });
    }
  }

  it("runs the service under the EXTERNAL controller without task definition, load balancers or network", async () => {
    const run = await runProgram(base);
    const service = run.one("aws:ecs/service:Service");
    expect(service.inputs.deploymentController).to.deep.equal({ type: "EXTERNAL" });
    expect(service.inputs).to.not.have.any.keys(
      "taskDefinition",
      "loadBalancers",
      "networkConfiguration",
      "launchType",
    );
    expect(service.inputs.desiredCount).to.equal(2);
  });

  it("gives each colour its own task definition, target group and APPVERSION", async () => {
    const run = await runProgram({ ...base, desiredCount: "3" });
    expect(run.ofType(TASK_SET)).to.have.length(2);
    expect(run.ofType(TASK_DEF)).to.have.length(2);
    const service = run.one("aws:ecs/service:Service");
    for (const [color, version] of [
      ["blue", "1.0.0"],
      ["green", "1.0.1"],
    ] as const) {
      const taskDef = run.one(TASK_DEF, `canary-${color}`);
      const taskSet = run.one(TASK_SET, `canary-${color}`);
      const containers = JSON.parse(taskDef.inputs.containerDefinitions as string);
      expect(containers).to.have.length(1);
      expect(containers[0]).to.include({
        name: "mycontainer",
        image: "octopussamples/helloworldwithversion",
        cpu: 256,
        memory: 512,
      });
      expect(containers[0].environment).to.deep.equal([{ name: "APPVERSION", value: version }]);
      expect(containers[0].portMappings).to.deep.equal([
        { containerPort: 4000, hostPort: 4000, protocol: "tcp" },
      ]);
      expect(containers[0].logConfiguration.logDriver).to.equal("awslogs");
      expect(containers[0].logConfiguration.options["awslogs-region"]).to.equal(REGION);
      expect(taskDef.inputs).to.include({ cpu: "256", memory: "512", networkMode: "awsvpc" });
      expect(taskDef.inputs.requiresCompatibilities).to.deep.equal(["FARGATE"]);
      expect(taskDef.inputs.executionRoleArn).to.equal(run.one("aws:iam/role:Role").state.arn);

      expect(taskSet.inputs.taskDefinition).to.equal(taskDef.state.arn);
      expect(taskSet.inputs.service).to.equal(`${service.name}-id`);
      expect(taskSet.inputs.launchType).to.equal("FARGATE");
      expect(taskSet.inputs.scale).to.deep.equal({ unit: "PERCENT", value: 100 });
      expect(taskSet.inputs.loadBalancers).to.deep.equal([
        {
          containerName: "mycontainer",
          containerPort: 4000,
          targetGroupArn: targetGroupOf(run, color).state.arn,
        },
      ]);
      expect(run.outputs[color]).to.deep.equal({
        version,
        targetGroupArn: targetGroupOf(run, color).state.arn,
        targetGroupArnSuffix: targetGroupOf(run, color).state.arnSuffix,
        taskSetId: taskSet.state.taskSetId,
        scale: 100,
      });
    }
    expect(run.one("aws:ecs/service:Service").inputs.desiredCount).to.equal(3);
  });

  it("scales the canary colour's task set by canaryScale and keeps the stable at 100", async () => {
    const run = await runProgram({ ...base, stableColor: "green", canaryScale: "0" });
    expect(run.one(TASK_SET, "canary-green").inputs.scale).to.deep.equal({
      unit: "PERCENT",
      value: 100,
    });
    expect(run.one(TASK_SET, "canary-blue").inputs.scale).to.deep.equal({
      unit: "PERCENT",
      value: 0,
    });
  });

  it("uses a per-colour image when one is set", async () => {
    const run = await runProgram({
      ...base,
      image: "registry/app:base",
      greenImage: "registry/app:next",
    });
    const image = (color: Color) =>
      JSON.parse(run.one(TASK_DEF, `canary-${color}`).inputs.containerDefinitions as string)[0]
        .image;
    expect(image("blue")).to.equal("registry/app:base");
    expect(image("green")).to.equal("registry/app:next");
  });

  it("health-checks and listens with the article's values", async () => {
    const run = await runProgram(base);
    for (const color of ["blue", "green"] as const) {
      const tg = targetGroupOf(run, color);
      expect(tg.inputs).to.include({
        port: 4000,
        protocol: "HTTP",
        targetType: "ip",
        vpcId: "vpc-new",
      });
      expect(tg.inputs.healthCheck).to.deep.equal({
        enabled: true,
        path: "/",
        port: "4000",
        protocol: "HTTP",
        interval: 30,
        timeout: 10,
        healthyThreshold: 5,
        unhealthyThreshold: 5,
        matcher: "200",
      });
    }
    const listener = run.one("aws:lb/listener:Listener");
    expect(listener.inputs).to.include({ port: 80, protocol: "HTTP" });
    expect(listener.inputs.defaultActions).to.deep.equal([
      { type: "fixed-response", fixedResponse: { statusCode: "404", contentType: "text/plain" } },
    ]);
    const rule = run.one(RULE);
    expect(rule.inputs.priority).to.equal(10);
    expect(rule.inputs.listenerArn).to.equal(listener.state.arn);
    expect(rule.inputs.conditions).to.deep.equal([{ pathPattern: { values: ["/*"] } }]);
    const lb = run.one("aws:lb/loadBalancer:LoadBalancer");
    expect(lb.inputs).to.include({ loadBalancerType: "application", internal: false });
    expect(lb.inputs.subnets).to.deep.equal(["subnet-pub-a", "subnet-pub-b"]);
    expect(run.outputs.url).to.equal(`http://${lb.state.dnsName}`);
  });

  it("keeps clients on their target group when stickiness is set", async () => {
    const sticky = await runProgram({ ...base, stickinessSeconds: "3600" });
    const forward = (run: ProgramRun) =>
      (run.one(RULE).inputs.actions as { forward: { stickiness: unknown } }[])[0].forward
        .stickiness;
    expect(forward(sticky)).to.deep.equal({ enabled: true, duration: 3600 });
    expect(forward(await runProgram(base))).to.deep.equal({ enabled: false, duration: 1 });
  });

  it("lets tasks be reached on the container port from the load balancer only", async () => {
    const run = await runProgram(base);
    const alb = run.one(SG, "canary-alb");
    const tasks = run.one(SG, "canary-tasks");
    expect(alb.inputs.ingress).to.deep.equal([
      {
        protocol: "tcp",
        fromPort: 80,
        toPort: 80,
        cidrBlocks: ["0.0.0.0/0"],
        ipv6CidrBlocks: ["::/0"],
      },
    ]);
    expect(tasks.inputs.ingress).to.deep.equal([
      { protocol: "tcp", fromPort: 4000, toPort: 4000, securityGroups: [`${alb.name}-id`] },
    ]);
    expect(run.one("aws:lb/loadBalancer:LoadBalancer").inputs.securityGroups).to.deep.equal([
      `${alb.name}-id`,
    ]);
    for (const taskSet of run.ofType(TASK_SET)) {
      expect(taskSet.inputs.networkConfiguration).to.deep.equal({
        subnets: ["subnet-priv-a", "subnet-priv-b"],
        securityGroups: [`${tasks.name}-id`],
        assignPublicIp: false,
      });
    }
  });

  it("gives tasks a public IP in public subnets only when asked", async () => {
    const run = await runProgram({ ...base, assignPublicIp: "true" });
    for (const taskSet of run.ofType(TASK_SET)) {
      expect(taskSet.inputs.networkConfiguration).to.deep.include({
        subnets: ["subnet-pub-a", "subnet-pub-b"],
        assignPublicIp: true,
      });
    }
  });

  it("creates a VPC and a cluster by default", async () => {
    const run = await runProgram(base);
    expect(run.ofType("awsx:ec2:Vpc")).to.have.length(1);
    const cluster = run.one("aws:ecs/cluster:Cluster");
    expect(run.one("aws:ecs/service:Service").inputs.cluster).to.equal(cluster.state.arn);
    expect(run.outputs.clusterName).to.equal(cluster.state.name);
  });

  it("treats the empty defaults Pulumi.yaml declares as unset", async () => {
    const empty = {
      vpcId: "",
      subnetIds: "",
      albSubnetIds: "",
      cluster: "",
      blueImage: "",
      greenImage: "",
    };
    const run = await runProgram({ ...base, ...empty });
    expect(run.ofType("awsx:ec2:Vpc")).to.have.length(1);
    expect(run.ofType("aws:ecs/cluster:Cluster")).to.have.length(1);
    const image = JSON.parse(
      run.one(TASK_DEF, "canary-blue").inputs.containerDefinitions as string,
    )[0].image;
    expect(image).to.equal("octopussamples/helloworldwithversion");
  });

  it("uses an existing VPC, subnets and cluster without creating them", async () => {
    const run = await runProgram({
      ...base,
      vpcId: "vpc-04fb5b2e72c17ca68",
      subnetIds: "subnet-0af41f8e0404d7b23,subnet-0c2515119bdf77d4c",
      albSubnetIds: '["subnet-pub1","subnet-pub2"]',
      cluster: "arn:aws:ecs:us-east-1:968802670493:cluster/mattctest",
    });
    expect(run.ofType("awsx:ec2:Vpc")).to.have.length(0);
    expect(run.ofType("aws:ec2/vpc:Vpc")).to.have.length(0);
    expect(run.ofType("aws:ec2/subnet:Subnet")).to.have.length(0);
    expect(run.ofType("aws:ecs/cluster:Cluster")).to.have.length(0);
    for (const tg of run.ofType(TG)) expect(tg.inputs.vpcId).to.equal("vpc-04fb5b2e72c17ca68");
    expect(run.one(SG, "canary-tasks").inputs.vpcId).to.equal("vpc-04fb5b2e72c17ca68");
    expect(run.one("aws:lb/loadBalancer:LoadBalancer").inputs.subnets).to.deep.equal([
      "subnet-pub1",
      "subnet-pub2",
    ]);
    for (const taskSet of run.ofType(TASK_SET)) {
      expect((taskSet.inputs.networkConfiguration as { subnets: string[] }).subnets).to.deep.equal([
        "subnet-0af41f8e0404d7b23",
        "subnet-0c2515119bdf77d4c",
      ]);
      expect(taskSet.inputs.cluster).to.equal(
        "arn:aws:ecs:us-east-1:968802670493:cluster/mattctest",
      );
    }
    expect(run.outputs.clusterName).to.equal("mattctest");
  });

  it("exports where CloudWatch metrics for each colour live", async () => {
    const run = await runProgram({ ...base, stableColor: "green", canaryWeight: "25" });
    const lb = run.one("aws:lb/loadBalancer:LoadBalancer");
    expect(run.outputs).to.include({
      platform: "aws",
      region: REGION,
      loadBalancerArnSuffix: lb.state.arnSuffix,
      listenerRuleArn: run.one(RULE).state.arn,
      serviceName: run.one("aws:ecs/service:Service").state.name,
    });
    expect(run.outputs.metricsSource).to.deep.equal({
      kind: "cloudwatch",
      intervalSeconds: 60,
      settleSeconds: 180,
      region: REGION,
      loadBalancerArnSuffix: lb.state.arnSuffix,
      targetGroupArnSuffixes: {
        blue: targetGroupOf(run, "blue").state.arnSuffix,
        green: targetGroupOf(run, "green").state.arnSuffix,
      },
    });
  });
});
