import { expect } from "chai";
import type { RuleView } from "../../../infra/local/balancer/adminApi";
import { fromRuleView, sameRouting, toForwardRule } from "../../../infra/local/providers/routing";

const groups = { blue: "targetgroup/blue/abc", green: "targetgroup/green/abc" };
const routing = {
  weights: { blue: 70, green: 30 },
  targets: { blue: ["http://127.0.0.1:1", "http://127.0.0.1:2"], green: ["http://127.0.0.1:3"] },
};

describe("routing", () => {
  it("turns colour weights and targets into the balancer's rule and reads them back", () => {
    const rule = toForwardRule(groups, routing);
    expect(rule.groups).to.deep.equal([
      { id: groups.blue, weight: 70, targets: routing.targets.blue },
      { id: groups.green, weight: 30, targets: routing.targets.green },
    ]);
    const view: RuleView = {
      revision: 4,
      groups: rule.groups.map((g) => ({
        ...g,
        targets: g.targets.map((url) => ({ url, healthy: true })),
      })),
    };
    expect(fromRuleView(groups, view)).to.deep.equal({ revision: 4, ...routing });
  });

  it("refuses a view that lacks a colour's target group", () => {
    const view: RuleView = { revision: 1, groups: [{ id: groups.blue, weight: 100, targets: [] }] };
    expect(() => fromRuleView(groups, view)).to.throw(/no target group targetgroup\/green\/abc/);
  });

  it("compares weights exactly and targets regardless of order", () => {
    const reordered = {
      weights: { blue: 70, green: 30 },
      targets: {
        blue: ["http://127.0.0.1:2", "http://127.0.0.1:1"],
        green: ["http://127.0.0.1:3"],
      },
    };
    expect(sameRouting(routing, reordered)).to.equal(true);
    expect(sameRouting(routing, { ...routing, weights: { blue: 69, green: 31 } })).to.equal(false);
    expect(
      sameRouting(routing, { ...routing, targets: { ...routing.targets, green: [] } }),
    ).to.equal(false);
  });

  it("treats missing or unknown (preview) values as different", () => {
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    expect(sameRouting(routing, undefined)).to.equal(false);
    expect(sameRouting(routing, { weights: routing.weights, targets: unknown as never })).to.equal(
      false,
    );
    expect(
      sameRouting(routing, {
        weights: routing.weights,
        targets: { blue: unknown as never, green: routing.targets.green },
      }),
    ).to.equal(false);
  });

  it("carries the header route (to a colour's group) and stickiness to the balancer and back", () => {
    const withRoutes = {
      ...routing,
      stickinessSeconds: 300,
      headerRoute: { name: "X-Canary", value: "always", color: "green" as const },
    };
    const rule = toForwardRule(groups, withRoutes);
    expect(rule.stickinessSeconds).to.equal(300);
    expect(rule.headerRoute).to.deep.equal({
      name: "X-Canary",
      value: "always",
      groupId: groups.green,
    });
    const view: RuleView = {
      revision: 2,
      groups: rule.groups.map((g) => ({
        ...g,
        targets: g.targets.map((url) => ({ url, healthy: true })),
      })),
      stickinessSeconds: rule.stickinessSeconds,
      headerRoute: rule.headerRoute,
    };
    const applied = fromRuleView(groups, view);
    expect(applied).to.deep.equal({ revision: 2, ...withRoutes });
    expect(sameRouting(withRoutes, applied)).to.equal(true);
    expect(sameRouting(routing, applied)).to.equal(false);
    expect(sameRouting({ ...withRoutes, stickinessSeconds: 0 }, applied)).to.equal(false);
    const blueRoute = {
      ...withRoutes,
      headerRoute: { ...withRoutes.headerRoute, color: "blue" as const },
    };
    expect(sameRouting(blueRoute, applied)).to.equal(false);
  });

  it("reads stickiness 0 as the absent stickiness of a rule recorded before it existed", () => {
    expect(sameRouting({ ...routing, stickinessSeconds: 0 }, routing)).to.equal(true);
    expect(toForwardRule(groups, { ...routing, stickinessSeconds: 0 })).to.not.have.property(
      "stickinessSeconds",
    );
  });
});
