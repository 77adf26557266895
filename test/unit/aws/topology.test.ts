import { expect } from "chai";
import { Color } from "../../../infra/contract/settings";
import { Registered, REGION, runProgram, ProgramRun } from "./mockProgram";

const TG = "aws:lb/targetGroup:TargetGroup";
const RULE = "aws:lb/listenerRule:ListenerRule";
const TASK_SET = "aws:ecs/taskSet:TaskSet";
const TASK_DEF = "aws:ecs/taskDefinition:TaskDefinition";
const SG = "aws:ec2/securityGroup:SecurityGroup";
const LISTENER = "aws:lb/listener:Listener";
const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/8a4b6a3e-2f1c-4d5e-9b7a-0c1d2e3f4a5b";

const base = { blueVersion: "1.0.0", greenVersion: "1.0.1" };

function targetGroupOf(run: ProgramRun, color: Color): Registered {
  const found = run
    .ofType(TG)
    .filter((r) => (r.inputs.tags as Record<string, string>)["ecs-canary:color"] === color);
  expect(found, `target group of ${color}`).to.have.length(1);
  return found[0];
}

/** Whether `r` depends on the resource of that type and name (URN `...$type::name`). */
function dependsOn(r: Registered, type: string, name: string): boolean {
  return r.dependencies.some((urn) => urn.endsWith(`${type}::${name}`));
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
    expect(run.outputs.green.scale).to.equal(100);
    expect(run.outputs.blue.scale).to.equal(0);
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
    expect(run.outputs).to.include({ vpcId: "vpc-04fb5b2e72c17ca68", vpcCreated: false });
  });

  it("exports the container port and the VPC it created, which the driver guards against changing", async () => {
    const run = await runProgram({ ...base, containerPort: "8080" });
    expect(run.outputs).to.include({ containerPort: 8080, vpcId: "vpc-new", vpcCreated: true });
    for (const color of ["blue", "green"] as const) {
      expect(targetGroupOf(run, color).inputs.port).to.equal(8080);
    }
  });

  it("drains deregistering targets for deregistrationDelaySeconds, 30 s unless set (AWS's default is 300)", async () => {
    const delays = async (config: Record<string, string>) => {
      const run = await runProgram({ ...base, ...config });
      return (["blue", "green"] as const).map(
        (c) => targetGroupOf(run, c).inputs.deregistrationDelay,
      );
    };
    expect(await delays({})).to.deep.equal([30, 30]);
    expect(await delays({ deregistrationDelaySeconds: "120" })).to.deep.equal([120, 120]);
    expect(await delays({ deregistrationDelaySeconds: "0" })).to.deep.equal([0, 0]);
  });

  it("starts no task before the execution role's policy is attached (task definitions depend on it)", async () => {
    const run = await runProgram(base);
    const attachment = run.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment");
    expect(attachment.inputs).to.deep.equal({
      role: run.one("aws:iam/role:Role").state.name,
      policyArn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    });
    for (const taskDef of run.ofType(TASK_DEF)) {
      expect(dependsOn(taskDef, attachment.type, attachment.name), taskDef.name).to.equal(true);
    }
  });

  it("without certificateArn: one HTTP listener on listenerPort carrying the rule, no TLS", async () => {
    const run = await runProgram(base);
    const listener = run.one(LISTENER);
    expect(listener.inputs).to.deep.equal({
      loadBalancerArn: run.one("aws:lb/loadBalancer:LoadBalancer").state.arn,
      port: 80,
      protocol: "HTTP",
      defaultActions: [
        { type: "fixed-response", fixedResponse: { statusCode: "404", contentType: "text/plain" } },
      ],
    });
    expect(run.one(RULE).inputs.listenerArn).to.equal(listener.state.arn);
    expect(run.one(SG, "canary-alb").inputs.ingress).to.have.length(1);
    expect(run.outputs.url).to.match(/^http:\/\//);
  });

  it("with certificateArn: the rule on an HTTPS listener on 443 with a current TLS policy, listenerPort redirecting to it", async () => {
    const run = await runProgram({ ...base, canaryWeight: "20", certificateArn: CERT });
    const lb = run.one("aws:lb/loadBalancer:LoadBalancer");
    const https = run.one(LISTENER, "canary-https");
    const redirect = run.one(LISTENER, "canary");
    expect(run.ofType(LISTENER)).to.have.length(2);
    expect(https.inputs).to.deep.equal({
      loadBalancerArn: lb.state.arn,
      port: 443,
      protocol: "HTTPS",
      sslPolicy: "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
      certificateArn: CERT,
      defaultActions: [
        { type: "fixed-response", fixedResponse: { statusCode: "404", contentType: "text/plain" } },
      ],
    });
    expect(redirect.inputs).to.deep.equal({
      loadBalancerArn: lb.state.arn,
      port: 80,
      protocol: "HTTP",
      defaultActions: [
        { type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } },
      ],
    });
    const rule = run.one(RULE);
    expect(rule.inputs.listenerArn).to.equal(https.state.arn);
    expect(rule.inputs.priority).to.equal(10);
    const weights = forwardedWeights(run);
    expect(weights.find((g) => g.arn === targetGroupOf(run, "blue").state.arn)?.weight).to.equal(
      80,
    );
    expect(weights.find((g) => g.arn === targetGroupOf(run, "green").state.arn)?.weight).to.equal(
      20,
    );
    expect(dependsOn(redirect, RULE, rule.name), "redirect only once HTTPS forwards").to.equal(
      true,
    );
    for (const taskSet of run.ofType(TASK_SET)) {
      expect(dependsOn(taskSet, RULE, rule.name), "task sets after the rule").to.equal(true);
    }
    expect(run.one(SG, "canary-alb").inputs.ingress).to.deep.equal(
      [80, 443].map((port) => ({
        protocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrBlocks: ["0.0.0.0/0"],
        ipv6CidrBlocks: ["::/0"],
      })),
    );
    expect(run.outputs.url).to.equal(`https://${lb.state.dnsName}`);
    expect(run.outputs.listenerRuleArn).to.equal(rule.state.arn);
    expect(run.outputs.weights).to.deep.equal({ blue: 80, green: 20 });
  });

  it("with certificateArn and another listenerPort: that port redirects, the URL stays on 443", async () => {
    const run = await runProgram({ ...base, listenerPort: "8080", certificateArn: CERT });
    expect(run.one(LISTENER, "canary").inputs).to.include({ port: 8080, protocol: "HTTP" });
    expect(run.one(LISTENER, "canary-https").inputs).to.include({ port: 443 });
    const lb = run.one("aws:lb/loadBalancer:LoadBalancer");
    expect(run.outputs.url).to.equal(`https://${lb.state.dnsName}`);
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
    const settled = await runProgram({ ...base, metricsSettleSeconds: "120" });
    expect(settled.outputs.metricsSource.settleSeconds).to.equal(120);
  });
});
