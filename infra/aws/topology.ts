import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Color, ConfigError, Settings } from "../contract/settings";
import { ColorOutputs, StackOutputs } from "../contract/outputs";
import { scalesFor, weightsFor } from "../contract/weights";
import { ExternalService } from "./externalService";
import { HTTPS_PORT, WeightedLoadBalancer } from "./loadBalancer";
import { CanaryNetwork } from "./network";

export interface AwsCanaryTopologyArgs {
  settings: Settings;
}

/** The article's topology on AWS: network, weighted ALB, EXTERNAL ECS service with two task sets. */
export class AwsCanaryTopology extends pulumi.ComponentResource {
  readonly network: CanaryNetwork;
  readonly loadBalancer: WeightedLoadBalancer;
  readonly service: ExternalService;
  readonly outputs: pulumi.Output<StackOutputs>;

  constructor(name: string, args: AwsCanaryTopologyArgs, opts?: pulumi.ComponentResourceOptions) {
    validateAwsSettings(args.settings);
    super("ecs-canary:aws:CanaryTopology", name, {}, opts);
    const { settings } = args;
    const https = settings.certificateArn !== undefined;

    this.network = new CanaryNetwork(
      name,
      {
        network: settings.network,
        listenerPort: settings.listenerPort,
        httpsPort: https ? HTTPS_PORT : undefined,
        containerPort: settings.containerPort,
      },
      { parent: this },
    );

    this.loadBalancer = new WeightedLoadBalancer(
      name,
      {
        vpcId: this.network.vpcId,
        subnetIds: this.network.albSubnetIds,
        securityGroupId: this.network.albSecurityGroup.id,
        listenerPort: settings.listenerPort,
        containerPort: settings.containerPort,
        weights: weightsFor(settings.stableColor, settings.canaryWeight),
        stickinessSeconds: settings.stickinessSeconds,
        deregistrationDelaySeconds: settings.deregistrationDelaySeconds,
        certificateArn: settings.certificateArn,
      },
      { parent: this },
    );
    const targetGroups = this.loadBalancer.targetGroups;

    this.service = new ExternalService(
      name,
      {
        cluster: settings.cluster,
        desiredCount: settings.desiredCount,
        scale: scalesFor(settings.stableColor, settings.canaryScale),
        containerPort: settings.containerPort,
        cpu: settings.cpu,
        memory: settings.memory,
        colors: { blue: settings.blue, green: settings.green },
        targetGroupArns: { blue: targetGroups.blue.arn, green: targetGroups.green.arn },
        subnetIds: this.network.taskSubnetIds,
        securityGroupId: this.network.taskSecurityGroup.id,
        assignPublicIp: settings.network.assignPublicIp,
        dependsOn: [this.loadBalancer.rule],
      },
      { parent: this },
    );

    const colorOutputs = (color: Color): pulumi.Output<ColorOutputs> =>
      pulumi.output({
        version: settings[color].version,
        targetGroupArn: targetGroups[color].arn,
        targetGroupArnSuffix: targetGroups[color].arnSuffix,
        taskSetId: this.service.taskSets[color].taskSet.taskSetId,
        scale: this.service.taskSets[color].taskSet.scale.apply((s) => s?.value ?? 0),
      });
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const lbSuffix = this.loadBalancer.loadBalancer.arnSuffix;

    this.outputs = pulumi.output({
      platform: "aws" as const,
      url: this.loadBalancer.url,
      canaryWeight: settings.canaryWeight,
      stableColor: settings.stableColor,
      canaryColor: settings.canaryColor,
      weights: this.loadBalancer.appliedWeights,
      blue: colorOutputs("blue"),
      green: colorOutputs("green"),
      loadBalancerArnSuffix: lbSuffix,
      listenerRuleArn: this.loadBalancer.rule.arn,
      containerPort: settings.containerPort,
      vpcId: this.network.vpcId,
      vpcCreated: settings.network.vpcId === undefined,
      clusterName: this.service.clusterName,
      serviceName: this.service.service.name,
      region,
      metricsSource: {
        kind: "cloudwatch" as const,
        intervalSeconds: 60,
        settleSeconds: settings.metricsSettleSeconds,
        region,
        loadBalancerArnSuffix: lbSuffix,
        targetGroupArnSuffixes: {
          blue: targetGroups.blue.arnSuffix,
          green: targetGroups.green.arnSuffix,
        },
      },
    });

    this.registerOutputs({ outputs: this.outputs });
  }
}

/**
 * What only the AWS topology cannot do, refused before any resource is registered: with a
 * certificate the HTTPS listener takes 443, so the plain listener cannot be there too.
 */
export function validateAwsSettings(settings: Settings): void {
  if (settings.certificateArn !== undefined && settings.listenerPort === HTTPS_PORT) {
    throw new ConfigError(
      "listenerPort",
      String(settings.listenerPort),
      `must not be ${HTTPS_PORT} when certificateArn is set (the HTTPS listener takes ${HTTPS_PORT}; listenerPort redirects to it)`,
    );
  }
}
