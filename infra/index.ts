import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./contract/settings";
import { StackOutputs } from "./contract/outputs";
import { canaryProgram } from "./program";

function run() {
  try {
    return canaryProgram();
  } catch (err) {
    // One line for a bad setting, without a stack trace.
    if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

const outputs = run();

export const platform = outputs.platform;
export const url = outputs.url;
export const canaryWeight = outputs.canaryWeight;
export const stableColor = outputs.stableColor;
export const canaryColor = outputs.canaryColor;
export const weights = outputs.weights;
export const blue = outputs.blue;
export const green = outputs.green;
export const loadBalancerArnSuffix = outputs.loadBalancerArnSuffix;
export const listenerRuleArn = outputs.listenerRuleArn;
export const containerPort = outputs.containerPort;
export const vpcId = outputs.vpcId;
export const vpcCreated = outputs.vpcCreated;
export const clusterName = outputs.clusterName;
export const serviceName = outputs.serviceName;
export const region = outputs.region;
export const metricsSource = outputs.metricsSource;

// Every output of the contract is exported: the compiler refuses a missing or an unknown one.
void ({
  platform,
  url,
  canaryWeight,
  stableColor,
  canaryColor,
  weights,
  blue,
  green,
  loadBalancerArnSuffix,
  listenerRuleArn,
  containerPort,
  vpcId,
  vpcCreated,
  clusterName,
  serviceName,
  region,
  metricsSource,
} satisfies Record<keyof StackOutputs, unknown>);
