import { COLORS, Settings } from "./settings";
import { StackOutputs } from "./outputs";
import { weightsFor } from "./weights";

/**
 * Changes that one update cannot make without an outage, judged from the stack as deployed
 * (its outputs) and the settings of the next update; free of Pulumi, shared by the driver and
 * tests. Returns one line that says what and why, or undefined when the change is safe.
 *
 * - Traffic to a colour whose task set has no tasks: the listener rule is updated before the
 *   task sets (they need a listener that uses their target group), so the ALB would answer 503
 *   for that share until tasks register, and those 503s reach no target group's metrics.
 * - A new container port or VPC replaces both target groups: the rule moves to the new, empty
 *   groups before the task sets follow, an outage of minutes for every colour.
 *
 * The header route needs no rule here: it exists only while the canary colour has tasks
 * (`headerRouteFor`), and it is created after the task sets in the update that scales that
 * colour up (on AWS it depends on them; locally the balancer changes after them), so it never
 * sends a request to a colour without tasks.
 */
export function unsafeChange(
  previous: StackOutputs | undefined,
  next: Settings,
): string | undefined {
  if (previous === undefined) return undefined;
  if (previous.containerPort !== undefined && previous.containerPort !== next.containerPort) {
    return (
      `containerPort ${previous.containerPort} -> ${next.containerPort} would replace both target groups ` +
      `and cut all traffic until the task sets follow; deploy it as a new stack instead`
    );
  }
  const nextVpc = next.network.vpcId ?? "(created)";
  const previousVpc = previous.vpcCreated ? "(created)" : previous.vpcId;
  if (previous.vpcId !== undefined && previousVpc !== nextVpc) {
    return (
      `vpcId ${previousVpc} -> ${nextVpc} would replace both target groups ` +
      `and cut all traffic until the task sets follow; deploy it as a new stack instead`
    );
  }
  const weights = weightsFor(next.stableColor, next.canaryWeight);
  for (const color of COLORS) {
    if (weights[color] > 0 && previous[color].scale === 0) {
      return (
        `${color} would get ${weights[color]}% of traffic but its task set has no tasks (scale 0); ` +
        `scale it up first (canaryScale=100 at canaryWeight=0) and wait until it is healthy`
      );
    }
  }
  return undefined;
}
