import { expect } from "chai";
import {
  argoThresholds,
  evaluateThresholds,
  flaggerThresholds,
  initThresholds,
  judgeThresholds,
  thresholdsVerdict,
  updateThresholds,
} from "../../../automation/judge";
import { Interval } from "../../../automation/metrics/interval";

const T0 = Date.UTC(2025, 0, 1);
const MIN = 60_000;

function iv(
  minute: number,
  requests: number,
  errors: number | undefined,
  p99Ms?: number,
): Interval {
  return {
    start: T0 + minute * MIN,
    canary: { requests, errors, p99Ms },
    stable: { requests: 5400, errors: 5 },
  };
}

/** 600 requests with 7 errors (1.17 %): a failed check for both presets. */
const bad = (m: number) => iv(m, 600, 7);
/** 600 requests with 6 errors: exactly 99 % success, 1 % errors: a passed check for both. */
const edge = (m: number) => iv(m, 600, 6);

describe("judge/thresholds: Flagger-style and Argo-style gates", () => {
  it("Flagger-style fails at `threshold` failed checks, never resetting on success", () => {
    const o = flaggerThresholds();
    expect(o.failAfter).to.equal(5);
    const data = [bad(0), edge(1), bad(2), bad(3), edge(4), bad(5)];
    const s = data.reduce(updateThresholds, initThresholds(o));
    expect(s.failedChecks).to.equal(4);
    expect(s.checks).to.equal(6);
    expect(thresholdsVerdict(s)).to.equal("inconclusive");
    const s2 = updateThresholds(s, bad(6));
    expect(s2.failedChecks).to.equal(5);
    expect(thresholdsVerdict(s2)).to.equal("fail");
    expect(s2.failedAt).to.equal(T0 + 6 * MIN);
  });

  it("Argo-style fails once failed checks exceed failureLimit (at the 4th for limit 3)", () => {
    const o = argoThresholds();
    expect(o.failAfter).to.equal(4);
    const three = judgeThresholds([bad(0), bad(1), bad(2)], o);
    expect(three.verdict).to.equal("inconclusive");
    const four = judgeThresholds([bad(0), bad(1), bad(2), bad(3)], o);
    expect(four.verdict).to.equal("fail");
    expect(four.reason).to.contain("4 of 4 checks failed (fail at 4; error rate <= 1.00%)");
    expect(four.reason).to.contain("last check failed: error rate 1.17% > 1.00%");
  });

  it("counts exactly 99 % success / 1 % errors as a passed check", () => {
    const s = [edge(0)].reduce(updateThresholds, initThresholds(flaggerThresholds()));
    expect(s.last?.ok).to.equal(true);
    const a = [edge(0)].reduce(updateThresholds, initThresholds(argoThresholds()));
    expect(a.last?.ok).to.equal(true);
    expect(a.last?.errorRate).to.be.closeTo(0.01, 1e-15);
  });

  it("treats a missing error datapoint as 0 and an interval without requests as no check", () => {
    const s = [iv(0, 600, undefined), iv(1, 0, undefined)].reduce(
      updateThresholds,
      initThresholds(flaggerThresholds()),
    );
    expect(s.checks).to.equal(1);
    expect(s.skipped).to.equal(1);
    expect(s.failedChecks).to.equal(0);
    const f = [iv(0, 0, undefined)].reduce(
      updateThresholds,
      initThresholds(flaggerThresholds({ noData: "fail", threshold: 1 })),
    );
    expect(thresholdsVerdict(f)).to.equal("fail");
    expect(evaluateThresholds(f).reason).to.contain("no canary requests");
  });

  it("checks the p99 ceiling when set", () => {
    const o = argoThresholds({ errorRateMax: 0.05, failureLimit: 0, p99MaxMs: 300 });
    expect(judgeThresholds([iv(0, 600, 0, 300)], o).verdict).to.equal("inconclusive");
    const r = judgeThresholds([iv(0, 600, 0, 301)], o);
    expect(r.verdict).to.equal("fail");
    expect(r.reason).to.contain("p99 301 ms > 300 ms");
  });

  it("passes after the bake time when the step's latest check succeeded", () => {
    const o = flaggerThresholds({ bakeMs: 3 * MIN });
    expect(judgeThresholds([edge(0), edge(1)], o).verdict).to.equal("inconclusive");
    expect(judgeThresholds([edge(0), edge(1), edge(2)], o).verdict).to.equal("pass");
    const r = judgeThresholds([edge(0), edge(1), bad(2)], o);
    expect(r.verdict).to.equal("inconclusive");
    expect(r.reason).to.contain("the step's latest check failed");
    expect(judgeThresholds([], o).verdict).to.equal("inconclusive");
  });

  it("gives the same result one by one and all at once", () => {
    const data = [bad(0), edge(1), iv(2, 0, undefined), bad(3)];
    const o = argoThresholds();
    let s = initThresholds(o);
    for (const d of data) s = updateThresholds(s, d);
    expect(evaluateThresholds(JSON.parse(JSON.stringify(s)))).to.deep.equal(
      judgeThresholds(data, o),
    );
  });

  it("rejects a gate without limits", () => {
    expect(() => initThresholds({ failAfter: 3 })).to.throw(
      "thresholds needs at least one of successRateMin, errorRateMax, p99MaxMs, got none",
    );
  });
});
