import { expect } from "chai";
import {
  baselineRateBound,
  DEFAULT_ERROR_RATE_OPTIONS,
  ErrorRateOptions,
  estimateDispersion,
  intervalCap,
  JudgeInputError,
  resumeErrorRate,
  summariseErrorRate,
  evaluateErrorRate,
  errorRateVerdict,
  initErrorRate,
  intervalLogLikelihoodRatio,
  judgeErrorRate,
  updateErrorRate,
} from "../../../automation/judge";
import { Interval } from "../../../automation/metrics/interval";

const T0 = Date.UTC(2025, 0, 1);
const MIN = 60_000;

function iv(
  minute: number,
  canary: [number, number | undefined],
  stable: [number, number | undefined],
  step = 0,
): Interval {
  return {
    start: T0 + minute * MIN,
    step,
    canary: { requests: canary[0], errors: canary[1] },
    stable: { requests: stable[0], errors: stable[1] },
  };
}

/** Independent formula: binomial log-likelihood ratio of the canary's share of the errors. */
function binomialLogLR(x: number, e: number, nc: number, ns: number, rho1: number, rho0: number) {
  const p1 = (rho1 * nc) / (rho1 * nc + ns);
  const p0 = (rho0 * nc) / (rho0 * nc + ns);
  return x * Math.log(p1 / p0) + (e - x) * Math.log((1 - p1) / (1 - p0));
}

const TWO: Partial<ErrorRateOptions> = {
  alternatives: [
    { factor: 2, weight: 0.5 },
    { factor: 4, weight: 0.5 },
  ],
};

describe("judge/errorRate: mixture sequential test", () => {
  it("computes the log-evidence of one interval exactly", () => {
    const s = updateErrorRate(initErrorRate(TWO), iv(0, [1000, 5], [9000, 10]));
    const l2 = binomialLogLR(5, 15, 1000, 9000, 2, 1);
    const l4 = binomialLogLR(5, 15, 1000, 9000, 4, 1);
    expect(s.logLikelihoodRatios[0]).to.be.closeTo(l2, 1e-12);
    expect(s.logLikelihoodRatios[1]).to.be.closeTo(l4, 1e-12);
    expect(s.logEvidence).to.be.closeTo(Math.log(0.5 * Math.exp(l2) + 0.5 * Math.exp(l4)), 1e-12);
    // The numbers themselves, worked by hand: p0 = 0.1, p(2) = 2/11, p(4) = 4/13.
    expect(l2).to.be.closeTo(5 * Math.log(20 / 11) + 10 * Math.log(10 / 11), 1e-12);
    expect(l4).to.be.closeTo(5 * Math.log(40 / 13) + 10 * Math.log(10 / 13), 1e-12);
  });

  it("has expectation exactly 1 under rho = rho0 and below 1 under rho < rho0 (a supermartingale)", () => {
    const e = 12;
    const nc = 700;
    const ns = 4300;
    const expectation = (rhoTrue: number) => {
      const p = (rhoTrue * nc) / (rhoTrue * nc + ns);
      let logChoose = 0;
      let sum = 0;
      for (let x = 0; x <= e; x++) {
        if (x > 0) logChoose += Math.log((e - x + 1) / x);
        const pmf = Math.exp(logChoose + x * Math.log(p) + (e - x) * Math.log(1 - p));
        sum += pmf * Math.exp(intervalLogLikelihoodRatio(x, e, nc, ns, 2.5, 1.2));
      }
      return sum;
    };
    expect(expectation(1.2)).to.be.closeTo(1, 1e-12);
    expect(expectation(1)).to.be.lessThan(1);
    expect(expectation(0.5)).to.be.lessThan(expectation(1));
  });

  it("uses each interval's own traffic share when the weight changes mid-step", () => {
    const a = iv(0, [600, 9], [5400, 54]);
    const b = iv(1, [3000, 40], [3000, 30]);
    const s = [a, b].reduce(updateErrorRate, initErrorRate(TWO));
    const want = (rho: number) =>
      binomialLogLR(9, 63, 600, 5400, rho, 1) + binomialLogLR(40, 70, 3000, 3000, rho, 1);
    expect(s.logLikelihoodRatios[0]).to.be.closeTo(want(2), 1e-12);
    expect(s.logLikelihoodRatios[1]).to.be.closeTo(want(4), 1e-12);
    // Pooling the counts as if the share were constant would give another number.
    const pooled = binomialLogLR(49, 133, 3600, 8400, 2, 1);
    expect(Math.abs(s.logLikelihoodRatios[0] - pooled)).to.be.greaterThan(0.1);
    expect(s.step?.canary).to.deep.equal({ requests: 3600, errors: 49 });
    expect(s.informativeIntervals).to.equal(2);
  });

  it("handles a stable with zero errors: all errors from the canary", () => {
    const s = updateErrorRate(initErrorRate(TWO), iv(0, [600, 3], [5400, 0]));
    expect(s.logLikelihoodRatios[0]).to.be.closeTo(
      3 * Math.log((2 * 600) / (2 * 600 + 5400) / 0.1),
      1e-12,
    );
    expect(s.logLikelihoodRatios[1]).to.be.closeTo(
      3 * Math.log((4 * 600) / (4 * 600 + 5400) / 0.1),
      1e-12,
    );
    const r = evaluateErrorRate(s);
    expect(r.details.observedRatio).to.equal(null);
    expect(r.details.stable.rate).to.equal(0);
  });

  it("counts a missing error datapoint as zero and skips intervals without requests", () => {
    const withUndefined = updateErrorRate(initErrorRate(TWO), iv(0, [600, 2], [5400, undefined]));
    const withZero = updateErrorRate(initErrorRate(TWO), iv(0, [600, 2], [5400, 0]));
    expect(withUndefined.logLikelihoodRatios).to.deep.equal(withZero.logLikelihoodRatios);

    const none = updateErrorRate(withZero, iv(1, [0, undefined], [0, undefined]));
    expect(none.logLikelihoodRatios).to.deep.equal(withZero.logLikelihoodRatios);
    expect(none.logEvidence).to.equal(withZero.logEvidence);
    expect(none.intervals).to.equal(2);
    expect(none.informativeIntervals).to.equal(1);

    // No stable traffic (canary at 100 %): x against Poisson(mu0) at the stable's earlier rate's
    // upper bound, mu0 = rho0 bound n: x ln f - mu0 (f - 1) per alternative (no cap reached).
    const full = updateErrorRate(withZero, iv(1, [6000, 60], [0, undefined]));
    const bound = baselineRateBound(0, 5400, 1);
    const power = Math.min(1, 100 / (bound * 6000));
    full.logLikelihoodRatios.forEach((l, k) => {
      const f = (TWO.alternatives ?? [])[k].factor;
      const inc = power * (60 * Math.log(f) - bound * 6000 * (f - 1));
      expect(l).to.be.closeTo(
        withZero.logLikelihoodRatios[k] + Math.min(intervalCap(0.03, 4), inc),
        1e-9,
      );
    });
  });

  it("says inconclusive on no data", () => {
    const r = judgeErrorRate([]);
    expect(r.verdict).to.equal("inconclusive");
    expect(r.reason).to.contain("no data yet");
    expect(judgeErrorRate([iv(0, [0, undefined], [0, undefined])]).verdict).to.equal(
      "inconclusive",
    );
  });

  it("fails on known counts, at the interval where the evidence reaches 1/alpha", () => {
    // Canary 20/600 (3.3 %) against stable 54/5400 (1 %), default options.
    const data = [iv(0, [600, 20], [5400, 54]), iv(1, [600, 20], [5400, 54])];
    const o = DEFAULT_ERROR_RATE_OPTIONS;
    const logEvidence = (n: number) =>
      Math.log(
        o.alternatives.reduce(
          (acc, a) => acc + a.weight * Math.exp(n * binomialLogLR(20, 74, 600, 5400, a.factor, 1)),
          0,
        ),
      );
    expect(logEvidence(1)).to.be.greaterThan(Math.log(1 / o.alpha));
    const r = judgeErrorRate(data);
    expect(r.verdict).to.equal("fail");
    expect(r.details.failedAt).to.equal(T0);
    expect(r.details.logEvidence).to.be.closeTo(logEvidence(2), 1e-9);
    expect(r.reason).to.match(
      /^error rate fail: canary 5xx 3\.33% \(40\/1200\) vs stable 1\.00% \(108\/10800\)/,
    );
    expect(r.reason).to.contain("1/alpha = 33.3");
  });

  it("stays failed once the evidence crossed, even if it later falls", () => {
    const bad = iv(0, [600, 30], [5400, 54]);
    let s = updateErrorRate(initErrorRate(), bad);
    expect(errorRateVerdict(s)).to.equal("fail");
    for (let m = 1; m <= 30; m++) s = updateErrorRate(s, iv(m, [600, 1], [5400, 60]));
    expect(s.logEvidence).to.be.lessThan(Math.log(1 / s.options.alpha));
    expect(errorRateVerdict(s)).to.equal("fail");
    expect(s.failedAt).to.equal(T0);
  });

  it("passes after the bake time with enough canary requests and evidence <= 1", () => {
    // Canary 1/1000 per minute against stable 10/9000: the canary's share 1/11 < 0.1.
    const data = [0, 1, 2, 3, 4].map((m) => iv(m, [1000, 1], [9000, 10]));
    const r = judgeErrorRate(data);
    expect(r.details.logEvidence).to.be.lessThan(0);
    expect(r.details.step?.elapsedMs).to.equal(5 * MIN);
    expect(r.verdict).to.equal("pass");
    expect(r.reason).to.contain("canary 5xx 0.10% (5/5000) vs stable 0.11% (50/45000)");
  });

  it("stays inconclusive before the bake time, with too few requests, or with some evidence", () => {
    const good = (m: number) => iv(m, [1000, 1], [9000, 10]);
    expect(judgeErrorRate([0, 1, 2, 3].map(good)).verdict).to.equal("inconclusive");
    expect(judgeErrorRate([0, 1, 2, 3].map(good)).reason).to.contain("step baked 240s of 300s");

    const thin = [0, 1, 2, 3, 4].map((m) => iv(m, [150, 0], [9000, 10]));
    const rThin = judgeErrorRate(thin);
    expect(rThin.verdict).to.equal("inconclusive");
    expect(rThin.reason).to.contain("canary served 750 requests this step, needs 1000");

    // Canary 2/1000 per minute vs stable 10/9000: some evidence, far from 1/alpha.
    const mild = [0, 1, 2, 3, 4].map((m) => iv(m, [1000, 2], [9000, 10]));
    const rMild = judgeErrorRate(mild);
    expect(rMild.details.evidence).to.be.greaterThan(1);
    expect(rMild.details.evidence).to.be.lessThan(1 / rMild.details.alpha);
    expect(rMild.verdict).to.equal("inconclusive");
    expect(rMild.reason).to.contain("above the pass level");
  });

  it("judges a 100 % step against the stable's rate measured earlier in the release", () => {
    const before = [0, 1, 2, 3, 4].map((m) => iv(m, [1000, 10], [9000, 90], 0));
    const good = [5, 6, 7, 8, 9].map((m) => iv(m, [6000, 60], [0, undefined], 1));
    const r = judgeErrorRate([...before, ...good], { minCanaryRequests: 200 });
    expect(r.verdict).to.equal("pass");
    expect(r.reason).to.contain(
      "no stable traffic this step: canary 1.00% (300/30000) vs the stable's earlier 1.00%",
    );
    // 3 % at full load only: caught, in no fewer than lastStepFailIntervals (4) intervals.
    const bad = [5, 6, 7, 8, 9, 10].map((m) => iv(m, [6000, 180], [0, undefined], 1));
    const states = [...before, ...bad].reduce(
      (acc, x) => [...acc, updateErrorRate(acc[acc.length - 1], x)],
      [initErrorRate({ minCanaryRequests: 200 })],
    );
    expect(states.map((s) => errorRateVerdict(s)).slice(6, 9)).to.deep.equal([
      "inconclusive",
      "inconclusive",
      "inconclusive",
    ]);
    expect(errorRateVerdict(states[states.length - 1])).to.equal("fail");
  });

  it("does not pass a 100 % step when the stable never served in the release", () => {
    const data = [5, 6, 7, 8, 9].map((m) => iv(m, [6000, 6], [0, undefined], 1));
    const r = judgeErrorRate(data);
    expect(r.verdict).to.equal("inconclusive");
    expect(r.reason).to.contain("the stable served no request in this release");
  });

  it("passes no step on zero canary requests: minCanaryRequests 0 is refused", () => {
    expect(() => initErrorRate({ minCanaryRequests: 0 })).to.throw(
      JudgeInputError,
      /errorRate\.minCanaryRequests must be a number in \[1, Infinity\], got 0/,
    );
    const noCanary = [0, 1, 2, 3, 4, 5].map((m) => iv(m, [0, undefined], [9000, 90]));
    expect(judgeErrorRate(noCanary, { minCanaryRequests: 1 }).verdict).to.equal("inconclusive");
  });

  it("estimates the stable's dispersion and damps intervals by it", () => {
    const steady = [0, 1, 2, 3].map((m) => iv(m, [1000, 10], [9000, 90]));
    const wandering = [0, 1, 2, 3].map((m) => iv(m, [1000, 10], [9000, m % 2 ? 30 : 150]));
    const s1 = steady.reduce(updateErrorRate, initErrorRate());
    const s2 = wandering.reduce(updateErrorRate, initErrorRate());
    expect(estimateDispersion(s1.total.stable, s1.dispersion)).to.equal(0);
    expect(estimateDispersion(s2.total.stable, s2.dispersion)).to.be.greaterThan(0.2);
    const burst = iv(4, [1000, 40], [9000, 90]);
    const after1 = updateErrorRate(s1, burst).logEvidence - s1.logEvidence;
    const after2 = updateErrorRate(s2, burst).logEvidence - s2.logEvidence;
    expect(after2).to.be.lessThan(after1 / 2);
  });

  it("estimates a mild wandering as it is, not shrunk to 0", () => {
    // 80 and 100 errors in turn around 90: squares 10 x 100, less the binomial 900, over
    // r^2 sum n^2 = 0.0001 x 10 x 9000^2.
    const mild = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((m) =>
      iv(m, [1000, 10], [9000, m % 2 ? 80 : 100]),
    );
    const s = mild.reduce(updateErrorRate, initErrorRate());
    expect(estimateDispersion(s.total.stable, s.dispersion)).to.be.closeTo(100 / 81_000, 1e-12);
  });

  it("carries a release's evidence through a summary as if the intervals were folded", () => {
    const before = [0, 1, 2, 3, 4].map((m) => iv(m, [1000, 12], [9000, 90], 0));
    const last = [5, 6, 7].map((m) => iv(m, [6000, 70], [0, undefined], 1));
    const folded = [...before, ...last].reduce(updateErrorRate, initErrorRate());
    const summary = JSON.parse(
      JSON.stringify(summariseErrorRate(before.reduce(updateErrorRate, initErrorRate()))),
    );
    const resumed = last.reduce(updateErrorRate, resumeErrorRate(summary));
    expect(resumed.logLikelihoodRatios).to.deep.equal(folded.logLikelihoodRatios);
    expect(evaluateErrorRate(resumed).verdict).to.equal(evaluateErrorRate(folded).verdict);
    expect(() => resumeErrorRate({ ...summary, logLikelihoodRatios: [1] })).to.throw(
      /must hold 6 numbers/,
    );
  });

  it("restarts the bake time and request count on a new step, keeping the evidence", () => {
    const first = [0, 1, 2, 3, 4].map((m) => iv(m, [1000, 1], [9000, 10], 0));
    const s1 = first.reduce(updateErrorRate, initErrorRate());
    const s2 = updateErrorRate(s1, iv(5, [2500, 2], [7500, 8], 1));
    expect(s2.step?.clock).to.deep.equal({ id: 1, startedAt: T0 + 5 * MIN, lastEnd: T0 + 6 * MIN });
    expect(s2.step?.canary).to.deep.equal({ requests: 2500, errors: 2 });
    expect(s2.total.canary).to.deep.equal({ requests: 7500, errors: 7 });
    const l = (rho: number) => binomialLogLR(2, 10, 2500, 7500, rho, 1);
    s2.options.alternatives.forEach((a, k) => {
      expect(s2.logLikelihoodRatios[k] - s1.logLikelihoodRatios[k]).to.be.closeTo(
        l(a.factor),
        1e-12,
      );
    });
    expect(errorRateVerdict(s2)).to.equal("inconclusive");
  });

  it("gives the same evidence one by one, all at once, and across a JSON round trip", () => {
    const data: Interval[] = [];
    for (let m = 0; m < 40; m++) {
      const w = m < 10 ? 0.1 : m < 20 ? 0.25 : 0.5;
      data.push(iv(m, [6000 * w, (m * 7) % 5], [6000 * (1 - w), (m * 11) % 9], Math.floor(m / 10)));
    }
    let one = initErrorRate();
    for (const d of data) one = updateErrorRate(one, d);
    const all = judgeErrorRate(data);
    expect(evaluateErrorRate(one)).to.deep.equal(all);

    let resumed = initErrorRate();
    for (const d of data.slice(0, 17)) resumed = updateErrorRate(resumed, d);
    resumed = JSON.parse(JSON.stringify(resumed));
    for (const d of data.slice(17)) resumed = updateErrorRate(resumed, d);
    expect(resumed).to.deep.equal(one);
  });

  it("does not change the state it is given", () => {
    const s = initErrorRate();
    const copy = JSON.parse(JSON.stringify(s));
    updateErrorRate(s, iv(0, [600, 5], [5400, 20]));
    expect(s).to.deep.equal(copy);
  });

  it("tempers an interval with more errors than maxErrorsPerInterval", () => {
    const o = { ...TWO, maxErrorsPerInterval: 100 };
    const s = updateErrorRate(initErrorRate(o), iv(0, [3000, 110], [3000, 90]));
    expect(s.logLikelihoodRatios[0]).to.be.closeTo(
      0.5 * binomialLogLR(110, 200, 3000, 3000, 2, 1),
      1e-12,
    );
    const small = updateErrorRate(initErrorRate(o), iv(0, [3000, 55], [3000, 45]));
    expect(small.logLikelihoodRatios[0]).to.be.closeTo(
      binomialLogLR(55, 100, 3000, 3000, 2, 1),
      1e-12,
    );
  });

  it("tests against the allowed ratio rho0", () => {
    const s = updateErrorRate(
      initErrorRate({ ...TWO, allowedRatio: 1.2 }),
      iv(0, [1000, 5], [9000, 10]),
    );
    expect(s.logLikelihoodRatios[0]).to.be.closeTo(
      binomialLogLR(5, 15, 1000, 9000, 2.4, 1.2),
      1e-12,
    );
  });

  it("rejects bad options and bad data with one clear line", () => {
    expect(() => initErrorRate({ alpha: 1.5 })).to.throw(
      "errorRate.alpha must be a number in (0, 1), got 1.5",
    );
    expect(() => initErrorRate({ alternatives: [{ factor: 2, weight: 0.4 }] })).to.throw(
      "errorRate.alternatives weights must sum to 1, got 0.4",
    );
    expect(() => initErrorRate({ alternatives: [{ factor: 1, weight: 1 }] })).to.throw(
      "errorRate.alternatives[0].factor must be a number in (1, Infinity], got 1",
    );
    const s = initErrorRate();
    expect(() => updateErrorRate(s, iv(0, [10, 11], [10, 0]))).to.throw(
      "interval.canary.errors must be a finite number between 0 and requests (10), got 11",
    );
    const s1 = updateErrorRate(s, iv(1, [10, 1], [10, 0]));
    expect(() => updateErrorRate(s1, iv(1, [10, 1], [10, 0]))).to.throw(
      /interval.start must increase/,
    );
  });
});
