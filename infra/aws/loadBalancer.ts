import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Color, COLORS } from "../config";
import { ColorWeights } from "../weights";

export interface WeightedLoadBalancerArgs {
  vpcId: pulumi.Input<string>;
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  securityGroupId: pulumi.Input<string>;
  listenerPort: number;
  containerPort: number;
  /** Weight per colour, 0-100 each; the listener rule forwards with these weights. */
  weights: ColorWeights;
  stickinessSeconds: number;
}

/**
 * Health check of the article's target groups. Typed against the provider's input type so
 * that tsc refuses a key it does not have (`intervalSeconds` once slipped through a spread).
 */
export const HEALTH_CHECK = {
  enabled: true,
  path: "/",
  protocol: "HTTP",
  interval: 30,
  timeout: 10,
  healthyThreshold: 5,
  unhealthyThreshold: 5,
  matcher: "200",
} satisfies aws.types.input.lb.TargetGroupHealthCheck;

export const LISTENER_RULE_PRIORITY = 10;

/**
 * An ALB with one target group per colour, an HTTP listener whose default
 * action is a fixed 404, and a listener rule (`/*`) that forwards to both
 * target groups with weights.
 */
export class WeightedLoadBalancer extends pulumi.ComponentResource {
  readonly loadBalancer: aws.lb.LoadBalancer;
  readonly targetGroups: Record<Color, aws.lb.TargetGroup>;
  readonly listener: aws.lb.Listener;
  readonly rule: aws.lb.ListenerRule;
  readonly url: pulumi.Output<string>;
  /** The weights as the listener rule reports them, per colour. */
  readonly appliedWeights: pulumi.Output<ColorWeights>;

  constructor(
    name: string,
    args: WeightedLoadBalancerArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("ecs-canary:aws:WeightedLoadBalancer", name, {}, opts);

    this.loadBalancer = new aws.lb.LoadBalancer(
      name,
      {
        loadBalancerType: "application",
        internal: false,
        securityGroups: [args.securityGroupId],
        subnets: args.subnetIds,
      },
      { parent: this },
    );

    const targetGroup = (color: Color) =>
      new aws.lb.TargetGroup(
        `${name}-${color}`,
        {
          port: args.containerPort,
          protocol: "HTTP",
          targetType: "ip",
          vpcId: args.vpcId,
          healthCheck: { ...HEALTH_CHECK, port: String(args.containerPort) },
          tags: { "ecs-canary:color": color },
        },
        { parent: this },
      );
    this.targetGroups = { blue: targetGroup("blue"), green: targetGroup("green") };

    this.listener = new aws.lb.Listener(
      name,
      {
        loadBalancerArn: this.loadBalancer.arn,
        port: args.listenerPort,
        protocol: "HTTP",
        defaultActions: [
          {
            type: "fixed-response",
            fixedResponse: { statusCode: "404", contentType: "text/plain" },
          },
        ],
      },
      { parent: this },
    );

    this.rule = new aws.lb.ListenerRule(
      name,
      {
        listenerArn: this.listener.arn,
        priority: LISTENER_RULE_PRIORITY,
        conditions: [{ pathPattern: { values: ["/*"] } }],
        actions: [
          {
            type: "forward",
            forward: {
              targetGroups: COLORS.map((color) => ({
                arn: this.targetGroups[color].arn,
                weight: args.weights[color],
              })),
              stickiness:
                args.stickinessSeconds > 0
                  ? { enabled: true, duration: args.stickinessSeconds }
                  : { enabled: false, duration: 1 },
            },
          },
        ],
      },
      { parent: this },
    );

    this.url = pulumi.interpolate`http://${this.loadBalancer.dnsName}${
      args.listenerPort === 80 ? "" : `:${args.listenerPort}`
    }`;
    this.appliedWeights = pulumi
      .all([this.rule.actions, this.targetGroups.blue.arn, this.targetGroups.green.arn])
      .apply(([actions, blueArn, greenArn]) =>
        weightsByArn(actions, { blue: blueArn, green: greenArn }),
      );

    this.registerOutputs({ url: this.url, appliedWeights: this.appliedWeights });
  }
}

/** Maps the forward action's target group weights back to colours. */
export function weightsByArn(
  actions: { forward?: { targetGroups: { arn: string; weight?: number }[] } }[],
  arns: Record<Color, string>,
): ColorWeights {
  const groups = actions.find((a) => a.forward)?.forward?.targetGroups ?? [];
  const weightOf = (arn: string) => groups.find((g) => g.arn === arn)?.weight ?? 0;
  return { blue: weightOf(arns.blue), green: weightOf(arns.green) };
}
