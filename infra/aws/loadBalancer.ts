import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Color, COLORS } from "../contract/settings";
import { ColorWeights } from "../contract/weights";

export interface WeightedLoadBalancerArgs {
  vpcId: pulumi.Input<string>;
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  securityGroupId: pulumi.Input<string>;
  listenerPort: number;
  containerPort: number;
  /** Weight per colour, 0-100 each; the listener rule forwards with these weights. */
  weights: ColorWeights;
  stickinessSeconds: number;
  /** How long a target group drains a deregistering target (AWS's default is 300 s). */
  deregistrationDelaySeconds: number;
  /**
   * ACM or IAM certificate: when set, the rule sits on an HTTPS listener on 443 and the
   * `listenerPort` listener redirects there; when absent, the rule sits on `listenerPort` (HTTP).
   */
  certificateArn?: string;
}

export const HTTPS_PORT = 443;

/**
 * The HTTPS listener's TLS policy: the one the ELB console now picks by default, TLS 1.3 and
 * 1.2 with forward-secret AEAD ciphers and hybrid post-quantum key exchange for clients that
 * offer it (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html).
 * The API's own default, ELBSecurityPolicy-2016-08, still allows TLS 1.0.
 */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09";

/** Requests that match no rule: the listeners' default action. */
export const NOT_FOUND_ACTION = {
  type: "fixed-response",
  fixedResponse: { statusCode: "404", contentType: "text/plain" },
} satisfies aws.types.input.lb.ListenerDefaultAction;

/** The plain-HTTP listener's only action when HTTPS is on: a permanent redirect to 443. */
export const REDIRECT_TO_HTTPS_ACTION = {
  type: "redirect",
  redirect: { port: String(HTTPS_PORT), protocol: "HTTPS", statusCode: "HTTP_301" },
} satisfies aws.types.input.lb.ListenerDefaultAction;

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
 * An ALB with one target group per colour, a listener whose default action is a fixed 404,
 * and a listener rule (`/*`) on it that forwards to both target groups with weights. With a
 * certificate that listener is HTTPS on 443, and the `listenerPort` one redirects to it.
 */
export class WeightedLoadBalancer extends pulumi.ComponentResource {
  readonly loadBalancer: aws.lb.LoadBalancer;
  readonly targetGroups: Record<Color, aws.lb.TargetGroup>;
  /** The listener that carries the weighted rule (HTTPS on 443 with a certificate). */
  readonly listener: aws.lb.Listener;
  /** With a certificate: the `listenerPort` listener, redirecting to HTTPS. */
  readonly redirectListener?: aws.lb.Listener;
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
          deregistrationDelay: args.deregistrationDelaySeconds,
          tags: { "ecs-canary:color": color },
        },
        { parent: this },
      );
    this.targetGroups = { blue: targetGroup("blue"), green: targetGroup("green") };

    const https = args.certificateArn !== undefined;
    this.listener = new aws.lb.Listener(
      // The plain listener keeps its name, so turning HTTPS on updates it in place.
      https ? `${name}-https` : name,
      {
        loadBalancerArn: this.loadBalancer.arn,
        ...(https
          ? {
              port: HTTPS_PORT,
              protocol: "HTTPS",
              sslPolicy: TLS_POLICY,
              certificateArn: args.certificateArn,
            }
          : { port: args.listenerPort, protocol: "HTTP" }),
        defaultActions: [NOT_FOUND_ACTION],
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
              stickiness: stickiness(args.stickinessSeconds),
            },
          },
        ],
      },
      { parent: this },
    );

    if (https) {
      this.redirectListener = new aws.lb.Listener(
        name,
        {
          loadBalancerArn: this.loadBalancer.arn,
          port: args.listenerPort,
          protocol: "HTTP",
          defaultActions: [REDIRECT_TO_HTTPS_ACTION],
        },
        // Clients are sent to HTTPS only once it forwards (when HTTPS is turned on in place).
        { parent: this, dependsOn: [this.rule] },
      );
    }

    const port = https ? HTTPS_PORT : args.listenerPort;
    const scheme = https ? "https" : "http";
    const defaultPort = https ? HTTPS_PORT : 80;
    this.url = pulumi.interpolate`${scheme}://${this.loadBalancer.dnsName}${
      port === defaultPort ? "" : `:${port}`
    }`;
    this.appliedWeights = pulumi
      .all([this.rule.actions, this.targetGroups.blue.arn, this.targetGroups.green.arn])
      .apply(([actions, blueArn, greenArn]) =>
        weightsByArn(actions, { blue: blueArn, green: greenArn }),
      );

    this.registerOutputs({ url: this.url, appliedWeights: this.appliedWeights });
  }
}

/** Stickiness of the forward action; disabled still needs a duration the API accepts (1 s-7 days). */
function stickiness(seconds: number): aws.types.input.lb.ListenerRuleActionForwardStickiness {
  return seconds > 0 ? { enabled: true, duration: seconds } : { enabled: false, duration: 1 };
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
