import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CanaryHeader, parseCanaryHeader } from "../contract/canaryHeader";
import {
  checkCanaryHasTasks,
  ConfigError,
  Color,
  COLORS,
  DEFAULT_SETTLE_SECONDS,
  INTEGER_SETTINGS,
  otherColor,
  parseColor,
} from "../contract/settings";
import { StackOutputs } from "../contract/outputs";
import { scalesFor, weightsFor } from "../contract/weights";
import { checked, checkedWith, integerArg, isKnown, settingArg } from "./argChecks";
import { checkColorImage, ColorImageArgs, ExternalService } from "./externalService";
import {
  checkCertificateArn,
  checkListenerPort,
  HTTPS_PORT,
  WeightedLoadBalancer,
} from "./loadBalancer";
import { CanaryNetwork, checkExistingVpc, ExistingVpcArgs } from "./network";
import { awsStackOutputs } from "./outputs";

/**
 * The whole topology. Numbers left out take the program's defaults (INTEGER_SETTINGS); each is
 * checked by the rule the setting of the same name has.
 */
export interface AwsCanaryTopologyArgs {
  /** `"create"`: a new VPC through awsx (three AZs, one NAT gateway); or a VPC of yours. */
  vpc: ExistingVpcArgs | "create";
  /** Tasks get a public IP (in a created VPC: run in its public subnets). Default false. */
  assignPublicIp?: pulumi.Input<boolean>;
  /** An existing ECS cluster's name or ARN; absent: a cluster is created. */
  cluster?: pulumi.Input<string>;
  /** The colour serving the stable version; the other one is the canary. */
  stableColor: pulumi.Input<Color>;
  /** Percent of requests (0-100) the canary colour gets; the stable colour the rest. */
  canaryWeight: pulumi.Input<number>;
  /** The canary colour's task set scale, percent of desiredCount (0-100, default 100). */
  canaryScale?: pulumi.Input<number>;
  /** Per colour: the image and the version (APPVERSION) it runs. */
  colors: Record<Color, ColorImageArgs>;
  desiredCount?: pulumi.Input<number>;
  containerPort?: pulumi.Input<number>;
  listenerPort?: pulumi.Input<number>;
  cpu?: pulumi.Input<number>;
  memory?: pulumi.Input<number>;
  stickinessSeconds?: pulumi.Input<number>;
  /**
   * `Name: value` (the canaryHeader setting's rule): requests carrying it go to the canary
   * colour's target group only, through a rule above the weighted one; the rule exists while
   * `canaryScale` is above 0, which must then be given as a number, not an Output.
   */
  canaryHeader?: string;
  deregistrationDelaySeconds?: pulumi.Input<number>;
  /** ACM or IAM certificate: HTTPS on 443, `listenerPort` redirecting to it. */
  certificateArn?: pulumi.Input<string>;
  /** Seconds before a CloudWatch interval counts as settled, exported for the driver (default 180). */
  metricsSettleSeconds?: pulumi.Input<number>;
}

/**
 * The type AwsCanaryTopology registered before its type token was named after the class. Stacks deployed
 * then find it, and through it all its children, under the new type: the engine combines a
 * parent's aliases with each child's own name and type, so nothing is replaced
 * (https://www.pulumi.com/docs/iac/concepts/resources/options/aliases/).
 */
export const AWS_CANARY_TOPOLOGY_ALIASES: pulumi.Alias[] = [
  { type: "ecs-canary:aws:CanaryTopology" },
];

/** The article's topology on AWS: network, weighted ALB, EXTERNAL ECS service with two task sets. */
export class AwsCanaryTopology extends pulumi.ComponentResource {
  readonly network: CanaryNetwork;
  readonly loadBalancer: WeightedLoadBalancer;
  readonly service: ExternalService;
  readonly outputs: pulumi.Output<StackOutputs>;

  constructor(name: string, args: AwsCanaryTopologyArgs, opts?: pulumi.ComponentResourceOptions) {
    // Every argument is checked before any resource is registered (see `checked`).
    const https = args.certificateArn !== undefined;
    const listenerPort = checkListenerPort(args.listenerPort, https);
    const certificateArn =
      args.certificateArn === undefined ? undefined : checkCertificateArn(args.certificateArn);
    const containerPort = settingArg("containerPort", args.containerPort);
    const stableColor = checked(args.stableColor, (c) => parseColor("stableColor", c));
    const canaryScale = settingArg("canaryScale", args.canaryScale);
    const headerRoute = headerRouteArg(args.canaryHeader, canaryScale);
    const canaryWeight = checkedWith(
      settingArg("canaryWeight", args.canaryWeight),
      canaryScale,
      checkCanaryHasTasks,
    );
    const colors = Object.fromEntries(
      COLORS.map((color) => [color, checkColorImage(color, args.colors[color])]),
    ) as Record<Color, ColorImageArgs>;
    const vpc = args.vpc === "create" ? args.vpc : checkExistingVpc(args.vpc);
    const metricsSettleSeconds = integerArg(
      "metricsSettleSeconds",
      args.metricsSettleSeconds ?? DEFAULT_SETTLE_SECONDS.aws,
      INTEGER_SETTINGS.metricsSettleSeconds,
    );
    const tunables = {
      desiredCount: settingArg("desiredCount", args.desiredCount),
      cpu: settingArg("cpu", args.cpu),
      memory: settingArg("memory", args.memory),
      stickinessSeconds: settingArg("stickinessSeconds", args.stickinessSeconds),
      deregistrationDelaySeconds: settingArg(
        "deregistrationDelaySeconds",
        args.deregistrationDelaySeconds,
      ),
    };
    super(
      "ecs-canary:aws:AwsCanaryTopology",
      name,
      {},
      {
        ...opts,
        aliases: [...(opts?.aliases ?? []), ...AWS_CANARY_TOPOLOGY_ALIASES],
      },
    );

    this.network = new CanaryNetwork(
      name,
      {
        vpc,
        assignPublicIp: args.assignPublicIp,
        listenerPorts: https ? [listenerPort, HTTPS_PORT] : [listenerPort],
        containerPort,
      },
      { parent: this },
    );

    const weights = pulumi
      .all([stableColor, canaryWeight])
      .apply(([stable, weight]) => weightsFor(stable, weight));
    this.loadBalancer = new WeightedLoadBalancer(
      name,
      {
        vpcId: this.network.vpcId,
        subnetIds: this.network.albSubnetIds,
        securityGroupId: this.network.albSecurityGroup.id,
        listenerPort,
        containerPort,
        weights: { blue: weights.blue, green: weights.green },
        stickinessSeconds: tunables.stickinessSeconds,
        deregistrationDelaySeconds: tunables.deregistrationDelaySeconds,
        certificateArn,
      },
      { parent: this },
    );
    const targetGroups = this.loadBalancer.targetGroups;

    const scales = pulumi
      .all([stableColor, canaryScale])
      .apply(([stable, scale]) => scalesFor(stable, scale));
    const taskSetArgs = (color: Color) => ({
      ...colors[color],
      scale: scales[color],
      targetGroupArn: targetGroups[color].arn,
    });
    this.service = new ExternalService(
      name,
      {
        cluster: args.cluster,
        desiredCount: tunables.desiredCount,
        containerPort,
        cpu: tunables.cpu,
        memory: tunables.memory,
        colors: { blue: taskSetArgs("blue"), green: taskSetArgs("green") },
        subnetIds: this.network.taskSubnetIds,
        securityGroupId: this.network.taskSecurityGroup.id,
        assignPublicIp: args.assignPublicIp,
        dependsOn: [this.loadBalancer.rule],
      },
      { parent: this },
    );

    if (headerRoute !== undefined) {
      const canaryColor = pulumi.output(stableColor).apply(otherColor);
      const { blue, green } = this.service.taskSets;
      this.loadBalancer.routeHeader(headerRoute, canaryColor, [blue.taskSet, green.taskSet]);
    }

    const asked = {
      stableColor,
      canaryWeight,
      versions: { blue: colors.blue.version, green: colors.green.version },
      containerPort,
      vpcCreated: args.vpc === "create",
      metricsSettleSeconds,
    };
    const taskSetFacts = (color: Color) => {
      const { taskSet } = this.service.taskSets[color];
      return { taskSetId: taskSet.taskSetId, scale: taskSet.scale.apply((s) => s?.value ?? 0) };
    };
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const facts = {
      url: this.loadBalancer.url,
      appliedWeights: this.loadBalancer.appliedWeights,
      targetGroups: {
        blue: { arn: targetGroups.blue.arn, arnSuffix: targetGroups.blue.arnSuffix },
        green: { arn: targetGroups.green.arn, arnSuffix: targetGroups.green.arnSuffix },
      },
      taskSets: { blue: taskSetFacts("blue"), green: taskSetFacts("green") },
      loadBalancerArnSuffix: this.loadBalancer.loadBalancer.arnSuffix,
      listenerRuleArn: this.loadBalancer.rule.arn,
      vpcId: this.network.vpcId,
      clusterName: this.service.clusterName,
      serviceName: this.service.service.name,
      region,
    };
    this.outputs = pulumi.all([asked, facts]).apply(([a, f]) => awsStackOutputs(a, f));

    this.registerOutputs({ outputs: this.outputs });
  }
}

/**
 * The header to route, if the rule is to exist: only while the canary colour has tasks, which
 * decides whether a resource exists, so `canaryScale` must be known now when a header is given.
 */
export function headerRouteArg(
  raw: string | undefined,
  canaryScale: pulumi.Input<number>,
): CanaryHeader | undefined {
  if (raw === undefined) return undefined;
  const header = parseCanaryHeader(raw, (allowed) => new ConfigError("canaryHeader", raw, allowed));
  if (header === undefined) return undefined;
  if (!isKnown(canaryScale)) {
    throw new ConfigError(
      "canaryScale",
      "(an Output)",
      "must be a number when canaryHeader is set: it decides whether the header rule exists",
    );
  }
  return canaryScale > 0 ? header : undefined;
}
