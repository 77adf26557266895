import { expect } from "chai";
import { TargetHealth } from "../../../infra/local/balancer/targetHealth";

describe("TargetHealth", () => {
  const t = "http://127.0.0.1:4001";

  it("starts new targets healthy and forgets targets no longer tracked", () => {
    const health = new TargetHealth({ healthyThreshold: 2, unhealthyThreshold: 2 });
    health.track([t]);
    expect(health.isHealthy(t)).to.equal(true);
    health.track([]);
    expect(health.isHealthy(t)).to.equal(false);
  });

  it("turns unhealthy only after `unhealthyThreshold` failures in a row", () => {
    const health = new TargetHealth({ healthyThreshold: 2, unhealthyThreshold: 3 });
    health.track([t]);
    health.report(t, false);
    health.report(t, false);
    health.report(t, true);
    health.report(t, false);
    health.report(t, false);
    expect(health.isHealthy(t)).to.equal(true);
    health.report(t, false);
    expect(health.isHealthy(t)).to.equal(false);
  });

  it("turns healthy again after `healthyThreshold` passes in a row", () => {
    const health = new TargetHealth({ healthyThreshold: 2, unhealthyThreshold: 1 });
    health.track([t]);
    health.report(t, false);
    expect(health.isHealthy(t)).to.equal(false);
    health.report(t, true);
    expect(health.isHealthy(t)).to.equal(false);
    health.report(t, true);
    expect(health.isHealthy(t)).to.equal(true);
  });

  it("keeps a target's state when tracked again", () => {
    const health = new TargetHealth({ healthyThreshold: 2, unhealthyThreshold: 1 });
    health.track([t]);
    health.report(t, false);
    health.track([t, "http://127.0.0.1:4002"]);
    expect(health.isHealthy(t)).to.equal(false);
    expect(health.isHealthy("http://127.0.0.1:4002")).to.equal(true);
  });

  it("ignores reports about targets it does not track", () => {
    const health = new TargetHealth({ healthyThreshold: 1, unhealthyThreshold: 1 });
    health.report(t, true);
    expect(health.isHealthy(t)).to.equal(false);
  });
});
