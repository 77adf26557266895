import { Color, Settings } from "../../contract/settings";
import { ColorOutputs, StackOutputs } from "../../contract/outputs";
import { ColorWeights, scalesFor } from "../../contract/weights";
import { listenerRuleArn, loadBalancerArnSuffix, localArn } from "../shared/ids";

/** What the local resources report, from which the stack outputs are made. */
export interface LocalFacts {
  name: string;
  balancer: {
    balancerId: string;
    url: string;
    adminUrl: string;
    targetGroups: Record<Color, string>;
    appliedWeights: ColorWeights;
  };
  taskSets: Record<Color, { taskSetId: string; version: string }>;
}

export const LOCAL_CLUSTER_NAME = "local";
export const LOCAL_REGION = "local";
export const LOCAL_VPC_ID = "local";

/** The same outputs as on AWS, with local identifiers where AWS would have ARNs. */
export function localStackOutputs(settings: Settings, facts: LocalFacts): StackOutputs {
  const { balancer, taskSets, name } = facts;
  const color = (c: Color): ColorOutputs => ({
    version: taskSets[c].version,
    targetGroupArn: localArn(balancer.targetGroups[c]),
    targetGroupArnSuffix: balancer.targetGroups[c],
    taskSetId: taskSets[c].taskSetId,
    scale: scalesFor(settings.stableColor, settings.canaryScale)[c],
  });
  return {
    platform: "local",
    url: balancer.url,
    canaryWeight: settings.canaryWeight,
    stableColor: settings.stableColor,
    canaryColor: settings.canaryColor,
    weights: { blue: balancer.appliedWeights.blue, green: balancer.appliedWeights.green },
    blue: color("blue"),
    green: color("green"),
    loadBalancerArnSuffix: loadBalancerArnSuffix(name, balancer.balancerId),
    listenerRuleArn: listenerRuleArn(name, balancer.balancerId),
    containerPort: settings.containerPort,
    vpcId: LOCAL_VPC_ID,
    vpcCreated: true,
    clusterName: LOCAL_CLUSTER_NAME,
    serviceName: `${name}-service`,
    region: LOCAL_REGION,
    metricsSource: {
      kind: "local",
      intervalSeconds: settings.metricsIntervalSeconds,
      settleSeconds: settings.metricsSettleSeconds,
      adminUrl: balancer.adminUrl,
      targetGroupArnSuffixes: {
        blue: balancer.targetGroups.blue,
        green: balancer.targetGroups.green,
      },
    },
  };
}
