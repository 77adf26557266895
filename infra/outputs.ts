import { Color } from "./config";
import { ColorWeights } from "./weights";

/** Per colour: what the driver and metrics gates need to find its traffic. */
export interface ColorOutputs {
  version: string;
  targetGroupArn: string;
  targetGroupArnSuffix: string;
  taskSetId: string;
}

/** Where live per-target-group metrics come from, chosen by the platform. */
export type MetricsSource =
  | {
      kind: "cloudwatch";
      /** Length of one metrics interval: CloudWatch's ALB metrics are per minute. */
      intervalSeconds: number;
      region: string;
      loadBalancerArnSuffix: string;
      targetGroupArnSuffixes: Record<Color, string>;
    }
  | {
      kind: "local";
      intervalSeconds: number;
      /** Base URL of the local balancer's admin API; per-group metrics under `/metrics`. */
      adminUrl: string;
      targetGroupArnSuffixes: Record<Color, string>;
    };

/**
 * The stack outputs, the same names on every platform. `weights` are read back
 * from the listener rule as applied, not echoed from config.
 */
export interface StackOutputs {
  platform: "aws" | "local";
  url: string;
  canaryWeight: number;
  stableColor: Color;
  canaryColor: Color;
  weights: ColorWeights;
  blue: ColorOutputs;
  green: ColorOutputs;
  loadBalancerArnSuffix: string;
  listenerRuleArn: string;
  clusterName: string;
  serviceName: string;
  region: string;
  metricsSource: MetricsSource;
}
