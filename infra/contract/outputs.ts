import { Color } from "./settings";
import { ColorWeights } from "./weights";

/** Per colour: what the driver and metrics gates need to find its traffic. */
export interface ColorOutputs {
  version: string;
  targetGroupArn: string;
  targetGroupArnSuffix: string;
  taskSetId: string;
  /** The task set's scale as deployed, percent of the service's desired count (0: no tasks). */
  scale: number;
}

/** Where live per-target-group metrics come from, chosen by the platform. */
export type MetricsSource =
  | {
      kind: "cloudwatch";
      /** Length of one metrics interval: CloudWatch's ALB metrics are per minute. */
      intervalSeconds: number;
      /** Seconds after an interval's end before its datapoints count as settled. */
      settleSeconds: number;
      region: string;
      loadBalancerArnSuffix: string;
      targetGroupArnSuffixes: Record<Color, string>;
    }
  | {
      kind: "local";
      intervalSeconds: number;
      settleSeconds: number;
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
  /**
   * What the target groups are bound to: changing either on a deployed stack replaces both
   * target groups, so the driver refuses it (see `unsafeChange`).
   */
  containerPort: number;
  vpcId: string;
  /** True when the program created the VPC (no vpcId setting). */
  vpcCreated: boolean;
  clusterName: string;
  serviceName: string;
  region: string;
  metricsSource: MetricsSource;
}
