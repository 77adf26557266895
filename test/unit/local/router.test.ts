import { expect } from "chai";
import { Router } from "../../../infra/local/router";

const B1 = "http://127.0.0.1:5001";
const B2 = "http://127.0.0.1:5002";
const G1 = "http://127.0.0.1:6001";

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

  it("sends nothing to a group of weight 0 or without targets, and has no route when none is left", () => {
    const router = new Router(thresholds);
    router.apply({
      groups: [
        { id: "blue", weight: 100, targets: [B1] },
        { id: "green", weight: 0, targets: [G1] },
      ],
    });
    expect(route(router, 10)).to.deep.equal({ [`blue:${B1}`]: 10 });
    router.apply({
      groups: [
        { id: "blue", weight: 50, targets: [] },
        { id: "green", weight: 0, targets: [G1] },
      ],
    });
    expect(router.pickGroup()).to.equal(undefined);
  });

  it("skips unhealthy targets, and groups without a healthy target", () => {
    const router = new Router(thresholds);
    router.apply({
      groups: [
        { id: "blue", weight: 50, targets: [B1, B2] },
        { id: "green", weight: 50, targets: [G1] },
      ],
    });
    router.health.markDown(B1);
    router.health.markDown(G1);
    expect(route(router, 10)).to.deep.equal({ [`blue:${B2}`]: 10 });
  });

  it("fails open to all targets when none is healthy", () => {
    const router = new Router(thresholds);
    router.apply({ groups: [{ id: "blue", weight: 1, targets: [B1, B2] }] });
    router.health.markDown(B1);
    router.health.markDown(B2);
    expect(route(router, 4)).to.deep.equal({ [`blue:${B1}`]: 2, [`blue:${B2}`]: 2 });
  });

  it("picks another target of the same group for a retry, and none when all were tried", () => {
    const router = new Router(thresholds);
    router.apply({ groups: [{ id: "blue", weight: 1, targets: [B1, B2] }] });
    expect(router.pickTarget("blue", new Set([B1]))).to.equal(B2);
    expect(router.pickTarget("blue", new Set([B1, B2]))).to.equal(undefined);
    expect(router.pickTarget("nope")).to.equal(undefined);
  });

  it("applies a new rule in one step with a new revision, keeping health of known targets", () => {
    const router = new Router(thresholds);
    expect(router.apply({ groups: [{ id: "blue", weight: 1, targets: [B1] }] })).to.equal(1);
    router.health.markDown(B1);
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
