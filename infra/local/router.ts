import { ForwardRule, TargetGroupRule } from "./forward-rule";
import { HealthThresholds, TargetHealth } from "./target-health";
import { RoundRobin, SmoothWeightedPicker } from "./weighted-picker";

/**
 * Routing decisions of the balancer, free of I/O: which target group gets the
 * next request (by weight, among groups that have a healthy target) and which
 * target within it (round-robin over healthy targets). When no target is healthy
 * it fails open as ALB does and uses all of them rather than refuse traffic.
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

  pickGroup(): TargetGroupRule | undefined {
    const weighted = this.rule.groups.filter((g) => g.weight > 0 && g.targets.length > 0);
    const withHealthy = weighted.filter((g) => g.targets.some((t) => this.health.isHealthy(t)));
    const candidates = withHealthy.length > 0 ? withHealthy : weighted;
    const id = this.groupPicker.pick(candidates);
    return candidates.find((g) => g.id === id);
  }

  /** The next target of `groupId`, skipping `exclude` (targets already tried for this request). */
  pickTarget(groupId: string, exclude: ReadonlySet<string> = new Set()): string | undefined {
    const group = this.rule.groups.find((g) => g.id === groupId);
    if (!group) return undefined;
    const untried = group.targets.filter((t) => !exclude.has(t));
    const healthy = untried.filter((t) => this.health.isHealthy(t));
    return this.targetPicker.pick(groupId, healthy.length > 0 ? healthy : untried);
  }
}
