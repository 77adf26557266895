import { headerValueMatches } from "../../contract/canaryHeader";
import { ForwardRule, TargetGroupRule } from "./forwardRule";
import { readStickiness, stickinessCookies } from "./stickiness";
import { HealthThresholds, TargetHealth } from "./targetHealth";
import { HostCounts } from "./trafficMetrics";
import { RoundRobin, SmoothWeightedPicker } from "./weightedPicker";

/** What routing needs to know of a request. */
export interface RequestFacts {
  /** Every value of the header `name` (lower case) the request carries, in order. */
  headerValues(name: string): readonly string[];
  /** The request's `Cookie` header. */
  cookie?: string;
}

export interface RouteDecision {
  group?: TargetGroupRule;
  /** `Set-Cookie` values for the answer: a new stickiness to the group. */
  setCookies: string[];
  /** Which rule chose the group. */
  by: "header" | "stickiness" | "weight";
}

/**
 * Routing decisions of the balancer, free of I/O, as an ALB's weighted forward action makes them:
 * - every group with a weight gets its share, whether or not it has registered or healthy
 *   targets: an ALB does not move a group's share to another group;
 * - within a group, round-robin over its healthy targets; when none is healthy the group fails
 *   open to all its targets ("If a target group contains only unhealthy registered targets, the
 *   load balancer routes requests to all those targets, regardless of their health status",
 *   https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html);
 * - a group without registered targets has no target to pick: the balancer answers 503 for it
 *   ("HTTP 503: The target groups for the load balancer have no registered targets",
 *   https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html).
 */
export class Router {
  readonly health: TargetHealth;
  private rule: ForwardRule = { groups: [] };
  private revision = 0;
  private readonly groupPicker = new SmoothWeightedPicker();
  private readonly targetPicker = new RoundRobin();

  constructor(thresholds: HealthThresholds) {
    this.health = new TargetHealth(thresholds);
  }

  /** Replaces the rule in one step; requests already routed are unaffected. */
  apply(rule: ForwardRule): number {
    this.rule = {
      ...rule,
      groups: rule.groups.map((g) => ({ ...g, targets: [...g.targets] })),
    };
    this.revision += 1;
    this.groupPicker.reset();
    this.health.track(this.targets());
    return this.revision;
  }

  get current(): { revision: number; rule: ForwardRule } {
    return { revision: this.revision, rule: this.rule };
  }

  targets(): string[] {
    return [...new Set(this.rule.groups.flatMap((g) => g.targets))];
  }

  /**
   * The group a request goes to, as an ALB listener decides it: the header route first (a rule
   * of higher priority), then, with stickiness on, the group a valid cookie names while that
   * group still has weight (a rollback to weight 0 takes its clients away at once), else by weight;
   * a choice by weight with stickiness on comes with the cookie that keeps the client there.
   */
  route(request: RequestFacts, nowMs: number): RouteDecision {
    const { headerRoute, stickinessSeconds } = this.rule;
    if (headerRoute !== undefined) {
      const values = request.headerValues(headerRoute.name.toLowerCase());
      if (values.some((v) => headerValueMatches(headerRoute.value, v))) {
        const group = this.rule.groups.find((g) => g.id === headerRoute.groupId);
        return { group, setCookies: [], by: "header" };
      }
    }
    if (stickinessSeconds === undefined || stickinessSeconds <= 0) {
      return { group: this.pickGroup(), setCookies: [], by: "weight" };
    }
    const sticky = readStickiness(request.cookie);
    const kept =
      sticky && sticky.untilMs > nowMs
        ? this.rule.groups.find((g) => g.id === sticky.groupId && g.weight > 0)
        : undefined;
    if (kept) return { group: kept, setCookies: [], by: "stickiness" };
    const group = this.pickGroup();
    const setCookies = group
      ? stickinessCookies({ groupId: group.id, untilMs: nowMs + stickinessSeconds * 1000 })
      : [];
    return { group, setCookies, by: "weight" };
  }

  /** The group the next request goes to, by weight alone; undefined when no group has weight. */
  pickGroup(): TargetGroupRule | undefined {
    const id = this.groupPicker.pick(this.rule.groups);
    return this.rule.groups.find((g) => g.id === id);
  }

  /** The next target of `groupId`: healthy ones, or all when none is (fail open); none when empty. */
  pickTarget(groupId: string): string | undefined {
    const group = this.rule.groups.find((g) => g.id === groupId);
    if (!group) return undefined;
    const healthy = group.targets.filter((t) => this.health.isHealthy(t));
    return this.targetPicker.pick(groupId, healthy.length > 0 ? healthy : group.targets);
  }

  /**
   * Healthy and unhealthy targets per group that has registered targets. CloudWatch reports
   * HealthyHostCount and UnHealthyHostCount only "if there are registered targets".
   */
  hostCounts(): Map<string, HostCounts> {
    const counts = new Map<string, HostCounts>();
    for (const group of this.rule.groups) {
      if (group.targets.length === 0) continue;
      const healthy = group.targets.filter((t) => this.health.isHealthy(t)).length;
      counts.set(group.id, { healthy, unhealthy: group.targets.length - healthy });
    }
    return counts;
  }
}
