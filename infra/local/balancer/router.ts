import { ForwardRule, TargetGroupRule } from "./forwardRule";
import { HealthThresholds, TargetHealth } from "./targetHealth";
import { HostCounts } from "./trafficMetrics";
import { RoundRobin, SmoothWeightedPicker } from "./weightedPicker";

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
    this.rule = { groups: rule.groups.map((g) => ({ ...g, targets: [...g.targets] })) };
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
