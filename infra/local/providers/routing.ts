import { Color, COLORS } from "../../contract/settings";
import { HeaderRoute } from "../../contract/canaryHeader";
import { ColorWeights } from "../../contract/weights";
import { ForwardRule } from "../balancer/forwardRule";
import type { RuleView } from "../balancer/adminApi";

/**
 * The balancer's rule as the program sees it, per colour, and its translation
 * to and from the balancer's target-group rule.
 */
export interface Routing {
  weights: ColorWeights;
  targets: Record<Color, string[]>;
  /** 0 or absent: off. */
  stickinessSeconds?: number;
  /** Absent: no header route. */
  headerRoute?: HeaderRoute;
}

export interface AppliedRouting extends Routing {
  revision: number;
}

export function toForwardRule(targetGroups: Record<Color, string>, routing: Routing): ForwardRule {
  return {
    groups: COLORS.map((color) => ({
      id: targetGroups[color],
      weight: routing.weights[color],
      targets: [...routing.targets[color]],
    })),
    ...(routing.stickinessSeconds && { stickinessSeconds: routing.stickinessSeconds }),
    ...(routing.headerRoute && {
      headerRoute: {
        name: routing.headerRoute.name,
        value: routing.headerRoute.value,
        groupId: targetGroups[routing.headerRoute.color],
      },
    }),
  };
}

/** Reads the colours' weights and targets back from what the balancer reports. */
export function fromRuleView(targetGroups: Record<Color, string>, view: RuleView): AppliedRouting {
  const weights = { blue: 0, green: 0 };
  const targets: Record<Color, string[]> = { blue: [], green: [] };
  for (const color of COLORS) {
    const group = view.groups.find((g) => g.id === targetGroups[color]);
    if (!group) {
      throw new Error(`the balancer has no target group ${targetGroups[color]} (${color})`);
    }
    weights[color] = group.weight;
    targets[color] = group.targets.map((t) => t.url);
  }
  const applied: AppliedRouting = { revision: view.revision, weights, targets };
  if (view.stickinessSeconds) applied.stickinessSeconds = view.stickinessSeconds;
  if (view.headerRoute) {
    const { name, value, groupId } = view.headerRoute;
    const color = COLORS.find((c) => targetGroups[c] === groupId);
    if (!color) throw new Error(`the balancer routes the header to an unknown group ${groupId}`);
    applied.headerRoute = { name, value, color };
  }
  return applied;
}

function sameList(a: unknown, b: unknown): boolean {
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  const sortedB = [...b].sort();
  return [...a].sort().every((item, i) => item === sortedB[i]);
}

/** Equal weights and the same targets per colour; false for anything malformed or unknown. */
export function sameRouting(a: Routing | undefined, b: Routing | undefined): boolean {
  if (!a || !b || typeof a.weights !== "object" || typeof b.weights !== "object") return false;
  if (typeof a.targets !== "object" || typeof b.targets !== "object") return false;
  const sameHeader =
    a.headerRoute?.name === b.headerRoute?.name &&
    a.headerRoute?.value === b.headerRoute?.value &&
    a.headerRoute?.color === b.headerRoute?.color;
  // Recorded before stickiness was applied locally: absent means off.
  const sameStickiness = (a.stickinessSeconds ?? 0) === (b.stickinessSeconds ?? 0);
  return (
    sameHeader &&
    sameStickiness &&
    COLORS.every((c) => a.weights[c] === b.weights[c] && sameList(a.targets[c], b.targets[c]))
  );
}
