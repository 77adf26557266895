import { Color, otherColor } from "../contract/settings";
import { ColorOutputs, StackOutputs } from "../contract/outputs";
import { ColorWeights } from "../contract/weights";

/** CloudWatch publishes the ALB's metrics per minute. */
export const CLOUDWATCH_INTERVAL_SECONDS = 60;

/** What the outputs repeat of what the topology was asked for. */
export interface AwsAsked {
  stableColor: Color;
  canaryWeight: number;
  versions: Record<Color, string>;
  containerPort: number;
  /** True when the topology created the VPC. */
  vpcCreated: boolean;
  metricsSettleSeconds: number;
}

/** What the AWS resources report once deployed. */
export interface AwsFacts {
  url: string;
  /** The weights as the listener rule reports them. */
  appliedWeights: ColorWeights;
  targetGroups: Record<Color, { arn: string; arnSuffix: string }>;
  /** Per colour: the task set's ID and scale as deployed (percent of the desired count). */
  taskSets: Record<Color, { taskSetId: string; scale: number }>;
  loadBalancerArnSuffix: string;
  listenerRuleArn: string;
  vpcId: string;
  clusterName: string;
  serviceName: string;
  region: string;
}

/** The stack outputs on AWS: metrics come from CloudWatch, by target group and load balancer. */
export function awsStackOutputs(asked: AwsAsked, facts: AwsFacts): StackOutputs {
  const { targetGroups, taskSets } = facts;
  const color = (c: Color): ColorOutputs => ({
    version: asked.versions[c],
    targetGroupArn: targetGroups[c].arn,
    targetGroupArnSuffix: targetGroups[c].arnSuffix,
    taskSetId: taskSets[c].taskSetId,
    scale: taskSets[c].scale,
  });
  return {
    platform: "aws",
    url: facts.url,
    canaryWeight: asked.canaryWeight,
    stableColor: asked.stableColor,
    canaryColor: otherColor(asked.stableColor),
    weights: { blue: facts.appliedWeights.blue, green: facts.appliedWeights.green },
    blue: color("blue"),
    green: color("green"),
    loadBalancerArnSuffix: facts.loadBalancerArnSuffix,
    listenerRuleArn: facts.listenerRuleArn,
    containerPort: asked.containerPort,
    vpcId: facts.vpcId,
    vpcCreated: asked.vpcCreated,
    clusterName: facts.clusterName,
    serviceName: facts.serviceName,
    region: facts.region,
    metricsSource: {
      kind: "cloudwatch",
      intervalSeconds: CLOUDWATCH_INTERVAL_SECONDS,
      settleSeconds: asked.metricsSettleSeconds,
      region: facts.region,
      loadBalancerArnSuffix: facts.loadBalancerArnSuffix,
      targetGroupArnSuffixes: {
        blue: targetGroups.blue.arnSuffix,
        green: targetGroups.green.arnSuffix,
      },
    },
  };
}
