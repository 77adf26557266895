import { expect } from "chai";
import {
  evaluateJudge,
  initJudge,
  errorRateUndecided,
  estimateDispersion,
  foldStableHistory,
  HISTORY_STEP,
  judge,
  judgeShortOfData,
  judgeUndecided,
  judgeVerdict,
  latencyUndecided,
  updateJudge,
} from "../../../automation/judge";
import { Interval } from "../../../automation/metrics/interval";

const T0 = Date.UTC(2025, 0, 1);
const MIN = 60_000;

function iv(minute: number, canaryErrors: number, canaryP99: number, step = 0): Interval {
  return {
    start: T0 + minute * MIN,
    step,
    canary: { requests: 1000, errors: canaryErrors, p99Ms: canaryP99 },
    stable: { requests: 9000, errors: 10, p99Ms: 250 },
  };
}

describe("judge: error rate and latency together", () => {
  it("passes only when both tests pass", () => {
    const r = judge([0, 1, 2, 3, 4].map((m) => iv(m, 1, 250)));
    expect(r.details.errorRate?.verdict).to.equal("pass");
    expect(r.details.latency?.verdict).to.equal("pass");
    expect(r.verdict).to.equal("pass");
    expect(r.reason).to.match(/^canary pass: error rate pass: .* \| latency pass: /);
  });

  it("fails when one test fails, and leads with the failing one", () => {
    const r = judge([0, 1, 2, 3, 4, 5, 6, 7].map((m) => iv(m, 1, 400)));
    expect(r.details.errorRate?.verdict).to.equal("pass");
    expect(r.details.latency?.verdict).to.equal("fail");
    expect(r.verdict).to.equal("fail");
    expect(r.reason).to.match(/^canary fail: latency fail: /);
  });

  it("is inconclusive when one test is", () => {
    const r = judge([0, 1, 2, 3].map((m) => iv(m, 1, 250)));
    expect(r.verdict).to.equal("inconclusive");
  });

  it("can leave latency out (no p99 data: it would never pass)", () => {
    const data = [0, 1, 2, 3, 4].map((m) => ({
      ...iv(m, 1, 250),
      canary: { requests: 1000, errors: 1 },
    }));
    expect(judge(data).verdict).to.equal("inconclusive");
    const r = judge(data, { latency: false });
    expect(r.verdict).to.equal("pass");
    expect(r.details.latency).to.equal(null);
    expect(() => initJudge({ latency: false, errorRate: false })).to.throw(
      "judge needs errorRate or latency enabled, got both false",
    );
  });

  describe("undecided: the sample complete, the evidence between the pass level and 1/alpha", () => {
    const fold = (data: Interval[], options = {}) => data.reduce(updateJudge, initJudge(options));
    // 14 canary 5xx in 1000 against 10 in 9000 each minute: leaning towards a regression.
    const leaning = (m: number) => ({
      ...iv(m, 14, 250),
      stable: { requests: 9000, errors: 90, p99Ms: 250 },
    });

    it("is undecided when the error-rate evidence alone holds a step that has its sample", () => {
      const state = fold([0, 1, 2, 3, 4].map(leaning));
      const r = evaluateJudge(state);
      expect(r.verdict).to.equal("inconclusive");
      expect(r.details.errorRate?.details.evidence).to.be.within(1, 1 / 0.03);
      expect(judgeShortOfData(state)).to.equal(false);
      expect(judgeUndecided(state)).to.equal(true);
      expect(state.errorRate && errorRateUndecided(state.errorRate)).to.equal(true);
    });

    it("is not undecided while baking, short of data, passing or failed", () => {
      expect(judgeUndecided(fold([0, 1, 2, 3].map(leaning)))).to.equal(false);
      const short = fold([0, 1, 2, 3, 4].map(leaning), { errorRate: { minCanaryRequests: 6000 } });
      expect(judgeShortOfData(short)).to.equal(true);
      expect(judgeUndecided(short)).to.equal(false);
      expect(judgeUndecided(fold([0, 1, 2, 3, 4].map((m) => iv(m, 1, 250))))).to.equal(false);
      const failed = fold([0, 1, 2, 3, 4].map((m) => iv(m, 60, 250)));
      expect(judgeVerdict(failed)).to.equal("fail");
      expect(judgeUndecided(failed)).to.equal(false);
    });

    it("is undecided when latency alone holds the step by its evidence", () => {
      // Above 1.2 x the stable's p99 in 5 of 6 intervals: evidence above 1, below 1/alpha.
      const data = [0, 1, 2, 3, 4, 5].map((m) => iv(m, 1, m === 0 ? 250 : 320));
      const state = fold(data, { latency: { alpha: 0.001 } });
      expect(evaluateJudge(state).details.errorRate?.verdict).to.equal("pass");
      expect(evaluateJudge(state).details.latency?.verdict).to.equal("inconclusive");
      expect(state.latency && latencyUndecided(state.latency)).to.equal(true);
      expect(judgeUndecided(state)).to.equal(true);
    });
  });

  describe("the stable's history before the first step", () => {
    // The stable alone, its rate wandering (40, 160, 90 per 9000); the canary only probed.
    const history: Interval[] = [40, 160, 90].map((errors, k) => ({
      start: T0 + (k - 3) * MIN,
      stable: { requests: 9000, errors, p99Ms: 250 },
      canary: { requests: 20, errors: 20, p99Ms: 900 },
    }));

    it("gives the stable's dispersion before the first step, and nothing else", () => {
      const fresh = initJudge();
      const state = foldStableHistory(fresh, history);
      const er = state.errorRate;
      if (er === null || fresh.errorRate === null) throw new Error("error-rate test missing");
      expect(estimateDispersion(fresh.errorRate.total.stable, fresh.errorRate.dispersion)).to.equal(
        0,
      );
      expect(estimateDispersion(er.total.stable, er.dispersion)).to.be.closeTo(0.249, 0.001);
      // The probes' failures count for nothing: no evidence, no canary requests, no pair.
      expect(er.logEvidence).to.equal(0);
      expect(er.total.canary).to.deep.equal({ requests: 0, errors: 0 });
      expect(er.informativeIntervals).to.equal(0);
      expect(er.step?.clock.id).to.equal(HISTORY_STEP);
      expect(state.latency).to.deep.equal(fresh.latency);
      expect(state.lastStart).to.equal(history[2].start);
    });

    it("counts towards no step: the first step still bakes its own 5 minutes", () => {
      const data = [0, 1, 2, 3, 4].map((m) => iv(m, 1, 250));
      const start = foldStableHistory(initJudge(), history);
      const four = data.slice(0, 4).reduce(updateJudge, start);
      expect(judgeVerdict(four)).to.equal("inconclusive");
      expect(evaluateJudge(four).reason).to.contain("step baked 240s of 300s");
      expect(judgeVerdict(updateJudge(four, data[4]))).to.equal("pass");
    });

    it("tempers the first minutes of a step by the history's dispersion", () => {
      // A bad-looking first minute: 16 canary 5xx in 1000 against 45 in 9000. Taken as binomial
      // (no dispersion known yet) it fails the canary at once; with the history's it does not.
      const first: Interval = {
        start: T0,
        step: 0,
        canary: { requests: 1000, errors: 16, p99Ms: 250 },
        stable: { requests: 9000, errors: 45, p99Ms: 250 },
      };
      const bare = updateJudge(initJudge(), first).errorRate?.logEvidence as number;
      const tempered = updateJudge(foldStableHistory(initJudge(), history), first).errorRate
        ?.logEvidence as number;
      expect(bare).to.be.greaterThan(Math.log(1 / 0.03));
      expect(tempered).to.be.greaterThan(0);
      expect(tempered).to.be.lessThan(bare / 2);
      expect(tempered).to.be.lessThan(Math.log(1 / 0.03));
    });

    it("is refused once the judge has folded an interval", () => {
      const started = updateJudge(initJudge(), iv(0, 1, 250));
      expect(() => foldStableHistory(started, history)).to.throw(
        "foldStableHistory needs a judge that has folded no interval yet",
      );
    });
  });

  it("gives the same verdict one by one, all at once, and across a JSON round trip", () => {
    const data = Array.from({ length: 25 }, (_, m) =>
      iv(m, m % 3, 240 + ((m * 13) % 40), Math.floor(m / 8)),
    );
    let s = initJudge();
    for (const d of data.slice(0, 11)) s = updateJudge(s, d);
    s = JSON.parse(JSON.stringify(s));
    for (const d of data.slice(11)) s = updateJudge(s, d);
    const all = judge(data);
    expect(evaluateJudge(s)).to.deep.equal(all);
    expect(judgeVerdict(s)).to.equal(all.verdict);
  });
});
