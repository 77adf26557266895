import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./config";
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
export const clusterName = outputs.clusterName;
export const serviceName = outputs.serviceName;
export const region = outputs.region;
export const metricsSource = outputs.metricsSource;
