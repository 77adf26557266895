import { expect } from "chai";
import {
  erfc,
  evaluateLatency,
  exactDistribution,
  initLatency,
  judgeLatency,
  latencyVerdict,
  mannWhitneyGreater,
  normalUpperTail,
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

describe("judge/latency: Mann-Whitney rank test", () => {
  it("computes U and the exact p-value by hand (m = n = 3)", () => {
    // Pairs with canary > stable: 3 beats 1, 2; 5 beats 1, 2; 7 beats 1, 2, 6: U = 7.
    const r = mannWhitneyGreater([3, 5, 7], [1, 2, 6]);
    expect(r.u).to.equal(7);
    expect(r.method).to.equal("exact");
    // Null distribution of U for 3 and 3 (20 arrangements): 1 1 2 3 3 3 3 2 1 1; P(U >= 7) = 4/20.
    expect(r.pValue).to.be.closeTo(4 / 20, 1e-12);
    const counts = Array.from(exactDistribution(3, 3)).map((p) => Math.round(p * 20));
    expect(counts).to.deep.equal([1, 1, 2, 3, 3, 3, 3, 2, 1, 1]);
  });

  it("scales the stable values by the allowed ratio", () => {
    // Stable x 1.2 = 1.2, 2.4, 7.2: 7 no longer beats 6 -> U = 6, P(U >= 6) = 7/20.
    const r = mannWhitneyGreater([3, 5, 7], [1, 2, 6], 1.2);
    expect(r.u).to.equal(6);
    expect(r.pValue).to.be.closeTo(7 / 20, 1e-12);
  });

  it("gives 1/C(10,5) for complete separation of 5 and 5", () => {
    const r = mannWhitneyGreater([10, 11, 12, 13, 14], [1, 2, 3, 4, 5]);
    expect(r.u).to.equal(25);
    expect(r.pValue).to.be.closeTo(1 / 252, 1e-12);
  });

  it("uses the normal approximation with tie and continuity correction on ties", () => {
    // canary 2, 2, 3 vs stable 1, 2, 2: U = 2 + 2 + 3 = 7 (each 2-2 tie counts 1/2).
    // N = 6, one tie group of 4: var = 9/12 (7 - 60/30) = 3.75; z = (7 - 4.5 - 0.5)/sqrt(3.75).
    const r = mannWhitneyGreater([2, 2, 3], [1, 2, 2]);
    expect(r.u).to.equal(7);
    expect(r.method).to.equal("normal");
    expect(r.z).to.be.closeTo(2 / Math.sqrt(3.75), 1e-12);
    expect(r.pValue).to.be.closeTo(0.15084979123917402, 1e-12);
  });

  it("computes erfc to 1e-14 (reference values from a libm)", () => {
    const ref: [number, number][] = [
      [0.1, 0.8875370839817152],
      [0.5, 0.4795001221869535],
      [1, 0.15729920705028513],
      [2, 0.004677734981047265],
      [2.9, 4.109787809945886e-5],
      [3, 2.2090496998585438e-5],
      [3.5, 7.430983723414128e-7],
      [5, 1.5374597944280351e-12],
      [-1, 1.842700792949715],
    ];
    for (const [x, want] of ref) expect(erfc(x)).to.be.closeTo(want, 1e-14);
    expect(normalUpperTail(0)).to.equal(0.5);
  });

  it("spends alpha over steps and looks: alpha (6/pi^2)^2 / (j^2 k^2)", () => {
    expect(spentAlpha(0.05, 1, 1)).to.be.closeTo(0.05 * SPEND * SPEND, 1e-15);
    expect(spentAlpha(0.05, 2, 3)).to.be.closeTo((0.05 * SPEND * SPEND) / 36, 1e-15);
  });

  it("fails on a clearly slower canary after minIntervals, with the numbers", () => {
    const data = [0, 1, 2, 3, 4].map((m) => iv(m, 400 + m, 250 + m));
    const r = judgeLatency(data);
    expect(r.verdict).to.equal("fail");
    expect(r.details.failed?.look.u).to.equal(25);
    expect(r.details.failed?.look.pValue).to.be.closeTo(1 / 252, 1e-12);
    expect(r.details.failed?.look.alphaLook).to.be.closeTo(0.05 * SPEND * SPEND, 1e-15);
    expect(r.details.failed?.at).to.equal(T0 + 4 * MIN);
    expect(r.reason).to.contain("Mann-Whitney U=25 of 25 (m=5, n=5, exact), p=0.00397");
  });

  it("stays inconclusive with too few intervals, even when clearly slower", () => {
    const r = judgeLatency([0, 1, 2, 3].map((m) => iv(m, 400, 250 + m)));
    expect(r.verdict).to.equal("inconclusive");
    expect(r.reason).to.contain("4 intervals with p99 for both colours this step, needs 5");
  });

  it("stays inconclusive when suspicious but not below the spent level", () => {
    // Four canary values beat all five stable ones (20 pairs), 215 beats 200 and 210: U = 22.
    // P(U >= 22) = (1 + 1 + 2 + 3)/252 = 0.0278: above alpha_1,1 = 0.0185, below alpha = 0.05.
    const canary = [300, 301, 302, 303, 215];
    const stable = [200, 210, 220, 230, 240];
    const r = judgeLatency(
      canary.map((c, m) => iv(m, c, stable[m])),
      { allowedRatio: 1 },
    );
    expect(r.details.last?.u).to.equal(22);
    expect(r.details.last?.pValue).to.be.closeTo(7 / 252, 1e-12);
    expect(r.verdict).to.equal("inconclusive");
    expect(r.reason).to.contain("suspicious");
  });

  it("passes after the bake time when the canary is not slower than allowed", () => {
    const canary = [250, 260, 240, 255, 245];
    const stable = [250, 255, 245, 260, 240];
    const r = judgeLatency(canary.map((c, m) => iv(m, c, stable[m])));
    // Stable x 1.1 = 275, 280.5, 269.5, 286, 264: every canary value is below, U = 0.
    expect(r.details.last?.u).to.equal(0);
    expect(r.details.last?.pValue).to.be.closeTo(1, 1e-12);
    expect(r.verdict).to.equal("pass");
    expect(r.reason).to.contain("canary p99 median 250 ms vs stable 250 ms x allowed 1.1 = 275 ms");
    // One interval earlier the bake time (5 min) has not passed.
    const early = judgeLatency(
      canary.map((c, m) => iv(m, c, stable[m])),
      { bakeMs: 6 * MIN },
    );
    expect(early.verdict).to.equal("inconclusive");
    expect(early.reason).to.contain("step baked 300s of 360s");
  });

  it("restarts its samples on a new step and spends alpha of step 2 there", () => {
    const first = [0, 1, 2, 3, 4].map((m) => iv(m, 250, 250 + m, 0));
    const second = [5, 6, 7, 8, 9].map((m) => iv(m, 500 + m, 250, 1));
    let s = initLatency();
    for (const d of [...first, ...second]) s = updateLatency(s, d);
    expect(s.steps).to.equal(2);
    expect(s.step?.canary).to.deep.equal([505, 506, 507, 508, 509]);
    // First look of step 2: p = 1/252 = 0.00397 <= alpha_2,1 = 0.05 (6/pi^2)^2 / 4 = 0.00462.
    expect(spentAlpha(0.05, 2, 1)).to.be.greaterThan(1 / 252);
    expect(latencyVerdict(s)).to.equal("fail");
    expect(s.failed?.look.stepIndex).to.equal(2);
    expect(s.failed?.stepId).to.equal(1);
  });

  it("skips intervals without a p99 or without requests on either side", () => {
    let s = initLatency();
    s = updateLatency(s, iv(0, undefined, 250));
    s = updateLatency(s, iv(1, 250, undefined));
    s = updateLatency(s, { ...iv(2, 250, 250), stable: { requests: 0, p99Ms: 250 } });
    s = updateLatency(s, iv(3, 250, 250));
    expect(s.missing).to.equal(3);
    expect(s.step?.canary).to.deep.equal([250]);
    expect(evaluateLatency(s).verdict).to.equal("inconclusive");
    expect(judgeLatency([]).reason).to.contain("no p99 pairs this step");
  });

  it("gives the same result one by one, all at once, and across a JSON round trip", () => {
    const data: Interval[] = [];
    for (let m = 0; m < 30; m++)
      data.push(iv(m, 240 + ((m * 37) % 50), 250 + ((m * 17) % 30), Math.floor(m / 10)));
    let one = initLatency();
    for (const d of data) one = updateLatency(one, d);
    expect(evaluateLatency(one)).to.deep.equal(judgeLatency(data));
    let resumed = initLatency();
    for (const d of data.slice(0, 13)) resumed = updateLatency(resumed, d);
    resumed = JSON.parse(JSON.stringify(resumed));
    for (const d of data.slice(13)) resumed = updateLatency(resumed, d);
    expect(resumed).to.deep.equal(one);
  });

  it("rejects bad options", () => {
    expect(() => initLatency({ minIntervals: 1 })).to.throw(
      "latency.minIntervals must be an integer in [2, Infinity], got 1",
    );
  });
});
