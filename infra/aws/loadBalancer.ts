import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Color, COLORS, ConfigError, parseCertificateArn } from "../contract/settings";
import { CanaryHeader } from "../contract/canaryHeader";
import { ColorWeights } from "../contract/weights";
import { checked, integerArg, settingArg } from "./argChecks";

export interface WeightedLoadBalancerArgs {
  vpcId: pulumi.Input<string>;
  /** Two or more subnets in different Availability Zones. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  securityGroupId: pulumi.Input<string>;
  /** The plain-HTTP listener's port; with a certificate it redirects to HTTPS on 443. */
  listenerPort: pulumi.Input<number>;
  /** The tasks' port: the target groups' port and their health check's. */
  containerPort: pulumi.Input<number>;
  /** Weight per colour (0-999 each); the listener rule forwards with these weights. */
  weights: Record<Color, pulumi.Input<number>>;
  /** Keeps a client on its target group this long (1 s-7 days); absent or 0: no stickiness. */
  stickinessSeconds?: pulumi.Input<number>;
  /** How long a target group drains a deregistering target: 0-3600 s, default 30 (AWS's: 300). */
  deregistrationDelaySeconds?: pulumi.Input<number>;
  /**
   * ACM or IAM certificate: when set, the rule sits on an HTTPS listener on 443 and the
   * `listenerPort` listener redirects there; when absent, the rule sits on `listenerPort` (HTTP).
   */
  certificateArn?: pulumi.Input<string>;
}

export const HTTPS_PORT = 443;

/** A forward action's weight per target group (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupTuple.html). */
export const TARGET_GROUP_WEIGHT = { min: 0, max: 999 };

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
 * The header route's priority: an ALB evaluates a listener's rules from the lowest priority value
 * to the highest (1-50000, https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RulePriorityPair.html),
 * so a request carrying the header matches this rule before the weighted one.
 */
export const HEADER_RULE_PRIORITY = 5;

/** The header route: requests carrying `header` are forwarded to one target group, unweighted. */
export function headerRuleArgs(
  listenerArn: pulumi.Input<string>,
  header: CanaryHeader,
  targetGroupArn: pulumi.Input<string>,
) {
  return {
    listenerArn,
    priority: HEADER_RULE_PRIORITY,
    conditions: [{ httpHeader: { httpHeaderName: header.name, values: [header.value] } }],
    actions: [{ type: "forward", targetGroupArn }],
  } satisfies aws.lb.ListenerRuleArgs;
}

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
  /** The header route, once `routeHeader` added it. */
  headerRule?: aws.lb.ListenerRule;
  readonly url: pulumi.Output<string>;
  /** The weights as the listener rule reports them, per colour. */
  readonly appliedWeights: pulumi.Output<ColorWeights>;

  private readonly baseName: string;

  constructor(
    name: string,
    args: WeightedLoadBalancerArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    const https = args.certificateArn !== undefined;
    const listenerPort = checkListenerPort(args.listenerPort, https);
    const containerPort = settingArg("containerPort", args.containerPort);
    const weights = {
      blue: integerArg("weights.blue", args.weights.blue, TARGET_GROUP_WEIGHT),
      green: integerArg("weights.green", args.weights.green, TARGET_GROUP_WEIGHT),
    };
    const stickinessSeconds = settingArg("stickinessSeconds", args.stickinessSeconds);
    const deregistrationDelay = settingArg(
      "deregistrationDelaySeconds",
      args.deregistrationDelaySeconds,
    );
    const certificateArn =
      args.certificateArn === undefined ? undefined : checkCertificateArn(args.certificateArn);
    super("ecs-canary:aws:WeightedLoadBalancer", name, {}, opts);
    this.baseName = name;

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
          port: containerPort,
          protocol: "HTTP",
          targetType: "ip",
          vpcId: args.vpcId,
          healthCheck: { ...HEALTH_CHECK, port: pulumi.output(containerPort).apply(String) },
          deregistrationDelay,
          tags: { "ecs-canary:color": color },
        },
        { parent: this },
      );
    this.targetGroups = { blue: targetGroup("blue"), green: targetGroup("green") };

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
              certificateArn,
            }
          : { port: listenerPort, protocol: "HTTP" }),
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
                weight: weights[color],
              })),
              stickiness: pulumi.output(stickinessSeconds).apply(stickiness),
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
          port: listenerPort,
          protocol: "HTTP",
          defaultActions: [REDIRECT_TO_HTTPS_ACTION],
        },
        // Clients are sent to HTTPS only once it forwards (when HTTPS is turned on in place).
        { parent: this, dependsOn: [this.rule] },
      );
    }

    const scheme = https ? "https" : "http";
    const defaultPort = https ? HTTPS_PORT : 80;
    const portSuffix = pulumi
      .output(https ? HTTPS_PORT : listenerPort)
      .apply((port) => (port === defaultPort ? "" : `:${port}`));
    this.url = pulumi.interpolate`${scheme}://${this.loadBalancer.dnsName}${portSuffix}`;
    this.appliedWeights = pulumi
      .all([this.rule.actions, this.targetGroups.blue.arn, this.targetGroups.green.arn])
      .apply(([actions, blueArn, greenArn]) =>
        weightsByArn(actions, { blue: blueArn, green: greenArn }),
      );

    this.registerOutputs({ url: this.url, appliedWeights: this.appliedWeights });
  }

  /**
   * Adds the header route (priority HEADER_RULE_PRIORITY) on the listener that serves: requests
   * carrying `header` go to `color`'s target group only. Created after `dependsOn` (the colour's
   * task set), so that it never forwards to a group before its tasks are registered.
   */
  routeHeader(
    header: CanaryHeader,
    color: pulumi.Input<Color>,
    dependsOn: pulumi.Input<pulumi.Resource>[],
  ): aws.lb.ListenerRule {
    const targetGroupArn = pulumi
      .all([color, this.targetGroups.blue.arn, this.targetGroups.green.arn])
      .apply(([c, blue, green]) => (c === "blue" ? blue : green));
    this.headerRule = new aws.lb.ListenerRule(
      `${this.baseName}-header`,
      headerRuleArgs(this.listener.arn, header, targetGroupArn),
      { parent: this, dependsOn },
    );
    return this.headerRule;
  }
}

/** With a certificate the HTTPS listener takes 443, so the plain listener cannot be there too. */
export function checkListenerPort(
  port: pulumi.Input<number> | undefined,
  https: boolean,
): pulumi.Input<number> {
  return checked(settingArg("listenerPort", port), (value) => {
    if (https && value === HTTPS_PORT) {
      throw new ConfigError(
        "listenerPort",
        String(value),
        `must not be ${HTTPS_PORT} when certificateArn is set (the HTTPS listener takes ${HTTPS_PORT}; listenerPort redirects to it)`,
      );
    }
  });
}

export function checkCertificateArn(arn: pulumi.Input<string>): pulumi.Input<string> {
  return checked(arn, (value) => parseCertificateArn("certificateArn", value));
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
