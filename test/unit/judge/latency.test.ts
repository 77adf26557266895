import { expect } from "chai";
import {
  evaluateLatency,
  initLatency,
  JudgeInputError,
  judgeLatency,
  latencyShortOfPairs,
  latencyVerdict,
  signLogLikelihoodRatio,
  spentAlpha,
  updateLatency,
} from "../../../automation/judge";
import { Interval } from "../../../automation/metrics/interval";

const T0 = Date.UTC(2025, 0, 1);
const MIN = 60_000;
const SPEND = 6 / (Math.PI * Math.PI);

function iv(
  minute: number,
  canaryP99: number | undefined,
  stableP99: number | undefined,
  step = 0,
): Interval {
  return {
    start: T0 + minute * MIN,
    step,
    canary: { requests: 600, errors: 0, p99Ms: canaryP99 },
    stable: { requests: 5400, errors: 0, p99Ms: stableP99 },
  };
}

const ONE_ALTERNATIVE = { alternatives: [{ q: 0.9, weight: 1 }], alpha: 0.05 };

describe("judge/latency: paired sign test on p99 ratios", () => {
  it("scores a pair by whether the canary is above the allowed ratio: log(2q) or log(2(1-q))", () => {
    expect(signLogLikelihoodRatio(true, 0.9)).to.be.closeTo(Math.log(1.8), 1e-15);
    expect(signLogLikelihoodRatio(false, 0.9)).to.be.closeTo(Math.log(0.2), 1e-15);
  });

  it("fails a canary above the ratio in every interval once the evidence reaches 1/alpha, with the numbers", () => {
    // One alternative q = 0.9: each pair above multiplies the evidence by 1.8; 1.8^5 = 18.9 < 20,
    // 1.8^6 = 34 >= 20.
    const slow = Array.from({ length: 6 }, (_, m) => iv(m, 400, 200));
    expect(judgeLatency(slow.slice(0, 5), ONE_ALTERNATIVE).verdict).to.equal("inconclusive");
    const r = judgeLatency(slow, ONE_ALTERNATIVE);
    expect(r.verdict).to.equal("fail");
    expect(r.details.evidence).to.be.closeTo(Math.pow(1.8, 6), 1e-9);
    expect(r.reason).to.match(
      /latency fail: canary p99 above 1\.2 x the stable's in 6 of 6 intervals/,
    );
    expect(r.reason).to.contain("(this step's mean ratio 2)");
  });

  it("pairs by interval: a load swing both colours share is no evidence", () => {
    // Both colours' p99 swing tenfold together; the canary stays at the stable's level.
    const swings = Array.from({ length: 10 }, (_, m) =>
      iv(m, m % 2 === 0 ? 100 : 1000, m % 2 === 0 ? 100 : 1000),
    );
    const r = judgeLatency(swings);
    expect(r.verdict).to.equal("pass");
    expect(r.details.above).to.equal(0);
  });

  it("does not pass on absence of evidence: a canary above the ratio in most intervals holds the step", () => {
    const mostlySlow = Array.from({ length: 6 }, (_, m) => iv(m, m === 0 ? 200 : 300, 200));
    const r = judgeLatency(mostlySlow, { alpha: 0.001 });
    expect(r.verdict).to.equal("inconclusive");
    expect(r.details.evidence).to.be.greaterThan(1);
    expect(r.reason).to.contain("is above the pass level 1");
  });

  it("passes after the bake time and minIntervals pairs when the canary is within the ratio", () => {
    const good = Array.from({ length: 5 }, (_, m) => iv(m, 210, 200));
    expect(judgeLatency(good.slice(0, 2)).verdict).to.equal("inconclusive");
    expect(latencyShortOfPairs(good.slice(0, 2).reduce(updateLatency, initLatency()))).to.equal(
      true,
    );
    expect(judgeLatency(good.slice(0, 4)).reason).to.contain("step baked 240s of 300s");
    const r = judgeLatency(good);
    expect(r.verdict).to.equal("pass");
    expect(r.details.evidence).to.be.lessThan(1);
  });

  it("carries the evidence over steps and restarts the step's pair count", () => {
    const steps = [...Array.from({ length: 5 }, (_, m) => iv(m, 300, 200, 0)), iv(5, 300, 200, 1)];
    const state = steps.reduce(updateLatency, initLatency(ONE_ALTERNATIVE));
    expect(state.pairs).to.equal(6);
    expect(state.step?.pairs).to.equal(1);
    expect(latencyVerdict(state)).to.equal("fail");
  });

  it("skips intervals without a p99 or without requests on either side", () => {
    const gaps: Interval[] = [
      iv(0, undefined, 200),
      iv(1, 300, undefined),
      { ...iv(2, 300, 200), canary: { requests: 0, p99Ms: 300 } },
    ];
    const r = judgeLatency(gaps);
    expect(r.details.missing).to.equal(3);
    expect(r.details.pairs).to.equal(0);
    expect(r.verdict).to.equal("inconclusive");
  });

  it("gives the same result one by one, all at once, and across a JSON round trip", () => {
    const xs = Array.from({ length: 8 }, (_, m) => iv(m, 200 + 20 * (m % 3), 200));
    let state = initLatency();
    for (const x of xs) state = JSON.parse(JSON.stringify(updateLatency(state, x)));
    expect(evaluateLatency(state)).to.deep.equal(judgeLatency(xs));
  });

  it("keeps the spending of the balancer signals: alpha (6/pi^2)^2 / (j^2 k^2)", () => {
    expect(spentAlpha(0.05, 1, 1)).to.be.closeTo(0.05 * SPEND * SPEND, 1e-15);
    expect(spentAlpha(0.05, 2, 3)).to.be.closeTo((0.05 * SPEND * SPEND) / 36, 1e-15);
  });

  it("rejects bad options with one line naming the value", () => {
    expect(() => initLatency({ allowedRatio: 0 })).to.throw(JudgeInputError, /allowedRatio/);
    expect(() => initLatency({ alternatives: [{ q: 0.4, weight: 1 }] })).to.throw(
      JudgeInputError,
      /alternatives\[0\]\.q must be a number in \(0\.5, 1\), got 0\.4/,
    );
    expect(() => initLatency({ alternatives: [{ q: 0.8, weight: 0.5 }] })).to.throw(
      /weights must sum to 1/,
    );
    expect(() => initLatency({ minIntervals: 0 })).to.throw(/minIntervals/);
  });
});
