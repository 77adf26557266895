import { expect } from "chai";
import { Router } from "../../../infra/local/balancer/router";

const B1 = "http://127.0.0.1:5001";
const B2 = "http://127.0.0.1:5002";
const G1 = "http://127.0.0.1:6001";
const G2 = "http://127.0.0.1:6002";

function route(router: Router, count: number): Record<string, number> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const group = router.pickGroup();
    const target = group && router.pickTarget(group.id);
    const key = `${group?.id}:${target}`;
    seen[key] = (seen[key] ?? 0) + 1;
  }
  return seen;
}

describe("Router", () => {
  const thresholds = { healthyThreshold: 2, unhealthyThreshold: 2 };

  it("splits by weight between groups and round-robin within a group", () => {
    const router = new Router(thresholds);
    router.apply({
      groups: [
        { id: "blue", weight: 70, targets: [B1, B2] },
        { id: "green", weight: 30, targets: [G1] },
      ],
    });
    expect(route(router, 200)).to.deep.equal({
      [`blue:${B1}`]: 70,
      [`blue:${B2}`]: 70,
      [`green:${G1}`]: 60,
    });
  });

  /** Two failed health checks in a row, as the thresholds need. */
  function failChecks(router: Router, ...targets: string[]): void {
    for (const t of targets) {
      router.health.report(t, false);
      router.health.report(t, false);
    }
  }

  it("sends nothing to a group of weight 0, and has no group when none has weight", () => {
    const router = new Router(thresholds);
    router.apply({
      groups: [
        { id: "blue", weight: 100, targets: [B1] },
        { id: "green", weight: 0, targets: [G1] },
      ],
    });
    expect(route(router, 10)).to.deep.equal({ [`blue:${B1}`]: 10 });
    router.apply({ groups: [{ id: "blue", weight: 0, targets: [B1] }] });
    expect(router.pickGroup()).to.equal(undefined);
  });

  it("keeps the weighted share of a group without registered targets, which has no target", () => {
    const router = new Router(thresholds);
    router.apply({
      groups: [
        { id: "blue", weight: 75, targets: [B1] },
        { id: "green", weight: 25, targets: [] },
      ],
    });
    expect(route(router, 100)).to.deep.equal({
      [`blue:${B1}`]: 75,
      "green:undefined": 25,
    });
  });

  it("skips unhealthy targets within a group but keeps the group's share", () => {
    const router = new Router(thresholds);
    router.apply({
      groups: [
        { id: "blue", weight: 50, targets: [B1, B2] },
        { id: "green", weight: 50, targets: [G1] },
      ],
    });
    failChecks(router, B1);
    expect(route(router, 10)).to.deep.equal({ [`blue:${B2}`]: 5, [`green:${G1}`]: 5 });
  });

  it("fails open: a group whose targets are all unhealthy keeps its share, spread over all of them", () => {
    const router = new Router(thresholds);
    router.apply({
      groups: [
        { id: "blue", weight: 80, targets: [B1] },
        { id: "green", weight: 20, targets: [G1, G2] },
      ],
    });
    failChecks(router, G1, G2);
    expect(router.health.isHealthy(G1) || router.health.isHealthy(G2)).to.equal(false);
    expect(route(router, 100)).to.deep.equal({
      [`blue:${B1}`]: 80,
      [`green:${G1}`]: 10,
      [`green:${G2}`]: 10,
    });
  });

  it("counts healthy and unhealthy targets of each group that has targets", () => {
    const router = new Router(thresholds);
    router.apply({
      groups: [
        { id: "blue", weight: 1, targets: [B1, B2] },
        { id: "green", weight: 1, targets: [G1] },
        { id: "empty", weight: 1, targets: [] },
      ],
    });
    failChecks(router, B2, G1);
    expect(Object.fromEntries(router.hostCounts())).to.deep.equal({
      blue: { healthy: 1, unhealthy: 1 },
      green: { healthy: 0, unhealthy: 1 },
    });
    expect(router.pickTarget("nope")).to.equal(undefined);
  });

  it("applies a new rule in one step with a new revision, keeping health of known targets", () => {
    const router = new Router(thresholds);
    expect(router.apply({ groups: [{ id: "blue", weight: 1, targets: [B1] }] })).to.equal(1);
    failChecks(router, B1);
    const revision = router.apply({
      groups: [
        { id: "blue", weight: 0, targets: [B1] },
        { id: "green", weight: 1, targets: [G1] },
      ],
    });
    expect(revision).to.equal(2);
    expect(router.current.revision).to.equal(2);
    expect(router.health.isHealthy(B1)).to.equal(false);
    expect(router.health.isHealthy(G1)).to.equal(true);
    expect(router.targets()).to.deep.equal([B1, G1]);
    expect(route(router, 3)).to.deep.equal({ [`green:${G1}`]: 3 });
  });
});
