import { expect } from "chai";
import {
  binomialUpperTail,
  judgeBalancerErrors,
  judgeConnectionErrors,
  judgeHostHealth,
  judgeSignals,
  logGamma,
  poissonUpperTail,
  resolveSignalOptions,
  SignalInput,
  spentAlpha,
} from "../../../automation/judge";
import { JudgeInputError } from "../../../automation/judge/types";
import { GroupSample, Interval } from "../../../automation/metrics/interval";

const MIN = 60_000;
const T0 = Date.UTC(2030, 0, 1, 10, 0, 0);
const OPTIONS = resolveSignalOptions({ maxErrorRate: 0.01, failAfter: 3 });

/** `n` intervals from minute `from`, each with the given samples and balancer 5xx. */
function minutes(
  from: number,
  n: number,
  stable: GroupSample,
  canary: GroupSample,
  balancerErrors?: number,
): Interval[] {
  return Array.from({ length: n }, (_, i) => ({
    start: T0 + (from + i) * MIN,
    stable: { ...stable },
    canary: { ...canary },
    ...(balancerErrors === undefined ? {} : { balancerErrors }),
  }));
}

function input(baseline: Interval[], current: Interval[], canaryWeight = 10): SignalInput {
  return { baseline, current, stepIndex: 0, canaryWeight };
}

/** Five minutes of the stable alone at 1000 requests and 2 balancer 5xx a minute (0.2 %). */
const BASELINE = minutes(-5, 5, { requests: 1000 }, { requests: 0 }, 2);

describe("count tests", () => {
  it("logGamma matches known values", () => {
    expect(logGamma(0.5)).to.be.closeTo(Math.log(Math.sqrt(Math.PI)), 1e-12);
    expect(logGamma(1)).to.be.closeTo(0, 1e-12);
    expect(logGamma(11)).to.be.closeTo(Math.log(3628800), 1e-12);
    expect(logGamma(101)).to.be.closeTo(363.73937555556347, 1e-9);
  });

  it("poissonUpperTail matches closed forms, both sides of the mean", () => {
    expect(poissonUpperTail(3, 1)).to.be.closeTo(1 - Math.exp(-1) * 2.5, 1e-12);
    expect(poissonUpperTail(1, 5)).to.be.closeTo(1 - Math.exp(-5), 1e-12);
    expect(poissonUpperTail(0, 5)).to.equal(1);
    expect(poissonUpperTail(1, 0)).to.equal(0);
    expect(poissonUpperTail(0, 0)).to.equal(1);
    // Far in the tail it keeps its magnitude instead of rounding to 0.
    const log = Math.log(poissonUpperTail(40, 1));
    expect(log).to.be.closeTo(-1 - logGamma(41), 0.05);
    // A normal approximation at a million: one standard deviation above the mean.
    expect(poissonUpperTail(1_001_000, 1_000_000)).to.be.closeTo(0.1587, 0.001);
  });

  it("binomialUpperTail matches closed forms, both sides of the mean", () => {
    expect(binomialUpperTail(8, 10, 0.5)).to.be.closeTo(56 / 1024, 1e-12);
    expect(binomialUpperTail(3, 10, 0.5)).to.be.closeTo(1 - 56 / 1024, 1e-12);
    expect(binomialUpperTail(5, 5, 0.1)).to.be.closeTo(1e-5, 1e-15);
    expect(binomialUpperTail(0, 5, 0.1)).to.equal(1);
    expect(binomialUpperTail(6, 5, 0.1)).to.equal(0);
    expect(binomialUpperTail(1, 5, 0)).to.equal(0);
    expect(binomialUpperTail(5, 5, 1)).to.equal(1);
    expect(binomialUpperTail(50_000, 100_000, 0.5)).to.be.closeTo(0.5013, 0.001);
  });
});

describe("load-balancer 5xx", () => {
  const step = (canaryRequests: number, errors: number | undefined, n = 5) =>
    minutes(0, n, { requests: 900 }, { requests: canaryRequests }, errors);

  it("passes 5xx at the stable's baseline rate, with the numbers", () => {
    const result = judgeBalancerErrors(input(BASELINE, step(100, 2)), OPTIONS);
    expect(result?.verdict).to.equal("pass");
    expect(result?.reason).to.equal(
      "load-balancer 5xx pass: 10 in 5 intervals of this step vs 10 expected at the baseline " +
        "0.20% (10/5000 requests before the first step); excess 0 = 0.00% of 500 canary requests; " +
        "p 0.542, allowed 1.00%",
    );
    expect(result?.details).to.deep.include({ expected: 10, excess: 0, excessRate: 0 });
  });

  it("fails an excess that is significant and above the allowed error rate", () => {
    const result = judgeBalancerErrors(input(BASELINE, step(100, 20)), OPTIONS);
    expect(result?.verdict).to.equal("fail");
    expect(result?.reason).to.match(
      /^load-balancer 5xx fail: 100 in 5 intervals of this step vs 10 expected at the baseline 0\.20% \(10\/5000 requests before the first step\); excess 90 = 18\.00% of 500 canary requests; p [0-9.e-]+ <= 1\.48e-4 and above the allowed 1\.00%$/,
    );
    expect(result?.details.pValue).to.be.below(1e-20);
    expect(result?.details.level).to.equal(spentAlpha(0.01, 1, 5));
  });

  it("holds an excess above the allowed rate that is not yet significant at this look", () => {
    // 20 where 10 are expected: p = 0.0035, below alpha 0.01, above the level of look 5.
    const current = step(100, 2);
    current[4].balancerErrors = 12;
    const result = judgeBalancerErrors(input(BASELINE, current), OPTIONS);
    expect(result?.verdict).to.equal("inconclusive");
    expect(result?.details.pValue).to.be.within(1.48e-4, 0.01);
    expect(result?.reason).to.contain(
      "excess 10 = 2.00% of 500 canary requests; above the allowed 1.00%, p 0.00345 <= alpha 0.01 but not yet <= 1.48e-4",
    );
  });

  it("passes a significant excess that stays below the allowed error rate", () => {
    // 700 where 500 are expected (0.28 % of 250 000 requests against 0.2 %): proven, but the
    // excess of 200 is 0.4 % of the 50 000 canary requests.
    const current = minutes(0, 5, { requests: 40_000 }, { requests: 10_000 }, 140);
    const result = judgeBalancerErrors(input(BASELINE, current), OPTIONS);
    expect(result?.details.pValue).to.be.below(1e-6);
    expect(result?.details.excessRate).to.be.closeTo(0.004, 1e-12);
    expect(result?.verdict).to.equal("pass");
  });

  it("without baseline data counts the baseline as 0 errors: any excess above the allowed rate fails", () => {
    const result = judgeBalancerErrors(input([], step(100, 3)), OPTIONS);
    expect(result?.verdict).to.equal("fail");
    expect(result?.reason).to.contain(
      "15 in 5 intervals of this step vs 0 expected at the baseline 0 (no request before the first step: counted as 0 errors); excess 15 = 3.00% of 500 canary requests; p 0 <=",
    );
    const small = judgeBalancerErrors(input([], step(100, 1)), OPTIONS);
    expect(small?.verdict).to.equal("pass");
    expect(small?.details.excessRate).to.equal(0.01);
  });

  it("fails 503s for a canary that served no request (its target group has no targets)", () => {
    const result = judgeBalancerErrors(input(BASELINE, step(0, 110)), OPTIONS);
    expect(result?.verdict).to.equal("fail");
    expect(result?.details.excessRate).to.equal(Infinity);
    expect(result?.reason).to.contain(
      "550 in 5 intervals of this step vs 9 expected at the baseline 0.20% (10/5000 requests before the first step); excess 541 = with no canary request served;",
    );
  });

  it("counts a minute without a datapoint as 0 balancer 5xx once the signal is there at all", () => {
    const result = judgeBalancerErrors(input(BASELINE, step(100, undefined)), OPTIONS);
    expect(result?.verdict).to.equal("pass");
    expect(result?.details.step.errors).to.equal(0);
  });

  it("has nothing to say without the signal (old data)", () => {
    const old = minutes(-5, 5, { requests: 1000 }, { requests: 0 });
    expect(judgeBalancerErrors(input(old, step(100, undefined)), OPTIONS)).to.equal(null);
  });
});

describe("target connection errors", () => {
  it("passes when the canary fails no more often than the stable", () => {
    const current = minutes(
      0,
      5,
      { requests: 900, connectionErrors: 1 },
      { requests: 100, connectionErrors: 0 },
    );
    const result = judgeConnectionErrors(input([], current), OPTIONS);
    expect(result?.verdict).to.equal("pass");
    expect(result?.reason).to.equal(
      "target connection errors pass: canary 0 in 500 requests (0.00%) vs stable 5 in 4500 requests (0.11%) over 5 intervals; p 1",
    );
  });

  it("fails a canary whose connections fail significantly more often", () => {
    const current = minutes(
      0,
      3,
      { requests: 900, connectionErrors: 0 },
      { requests: 100, connectionErrors: 10 },
    );
    const result = judgeConnectionErrors(input([], current), OPTIONS);
    expect(result?.verdict).to.equal("fail");
    expect(result?.reason).to.match(
      /^target connection errors fail: canary 30 in 300 requests \(9\.09%\) vs stable 0 in 2700 requests \(0\.00%\) over 3 intervals; p [0-9.e-]+ <= 4\.11e-4$/,
    );
  });

  it("fails a canary every connection to which fails, though it served no request", () => {
    const current = minutes(
      0,
      2,
      { requests: 900, connectionErrors: 1 },
      { requests: 0, connectionErrors: 40 },
    );
    expect(judgeConnectionErrors(input([], current), OPTIONS)?.verdict).to.equal("fail");
  });

  it("holds a difference that is suspicious but not yet proven at this look", () => {
    const current = minutes(
      0,
      5,
      { requests: 900, connectionErrors: 0 },
      { requests: 100, connectionErrors: 0 },
    );
    current[1].canary.connectionErrors = 2;
    current[3].canary.connectionErrors = 2;
    current[2].stable.connectionErrors = 3;
    const result = judgeConnectionErrors(input([], current), OPTIONS);
    const p = result?.details.pValue ?? NaN;
    expect(p).to.be.closeTo(binomialUpperTail(4, 7, 504 / (504 + 4503)), 1e-15);
    expect(p).to.be.within(spentAlpha(0.01, 1, 5), 0.01);
    expect(result?.verdict).to.equal("inconclusive");
    expect(result?.reason).to.match(/p 0\.00[0-9]+ <= alpha 0\.01 but not yet <= 1\.48e-4$/);
  });

  it("has nothing to compare at 100 % (no stable traffic), and says so", () => {
    const current = minutes(0, 3, { requests: 0 }, { requests: 1000, connectionErrors: 50 });
    const result = judgeConnectionErrors(input([], current, 100), OPTIONS);
    expect(result?.verdict).to.equal("pass");
    expect(result?.reason).to.equal(
      "target connection errors pass: no interval of this step in which both colours had traffic: nothing to compare",
    );
  });

  it("has nothing to say without the signal (old data)", () => {
    const current = minutes(0, 3, { requests: 900 }, { requests: 100 });
    expect(judgeConnectionErrors(input([], current), OPTIONS)).to.equal(null);
  });
});

describe("canary target health", () => {
  const healthy = { requests: 100, unhealthyHosts: 0, healthyHosts: 2 };
  const stable = { requests: 900, unhealthyHosts: 0, healthyHosts: 4 };

  it("passes a step whose canary hosts stayed healthy", () => {
    const result = judgeHostHealth(input([], minutes(0, 4, stable, healthy)), OPTIONS);
    expect(result?.verdict).to.equal("pass");
    expect(result?.reason).to.equal(
      "canary hosts pass: no unhealthy canary host in 4 intervals of this step (fewest healthy 2)",
    );
  });

  it("holds a step while its latest interval has unhealthy canary hosts, naming the count", () => {
    const current = minutes(0, 4, stable, healthy);
    current[3].canary = { requests: 100, unhealthyHosts: 1, healthyHosts: 1 };
    const result = judgeHostHealth(input([], current), OPTIONS);
    expect(result?.verdict).to.equal("inconclusive");
    expect(result?.reason).to.equal(
      "canary hosts inconclusive: up to 1 unhealthy canary host in the last 1 interval of this step (fail after 3 in a row)",
    );
  });

  it("does not hold a step for a blip its hosts recovered from", () => {
    const current = minutes(0, 4, stable, healthy);
    current[1].canary = { requests: 100, unhealthyHosts: 1, healthyHosts: 1 };
    const result = judgeHostHealth(input([], current), OPTIONS);
    expect(result?.verdict).to.equal("pass");
    expect(result?.reason).to.equal(
      "canary hosts pass: canary hosts recovered: up to 1 unhealthy canary host in 1 of 4 intervals of this step, none in the latest",
    );
  });

  it("fails after failAfter intervals in a row with unhealthy canary hosts; an interval without a count does not break the run", () => {
    const current = minutes(0, 5, stable, healthy);
    current[1].canary = { requests: 100, unhealthyHosts: 1, healthyHosts: 1 };
    current[2].canary = { requests: 100 };
    current[3].canary = { requests: 100, unhealthyHosts: 2, healthyHosts: 1 };
    current[4].canary = { requests: 100, unhealthyHosts: 1, healthyHosts: 1 };
    const result = judgeHostHealth(input([], current), OPTIONS);
    expect(result?.verdict).to.equal("fail");
    expect(result?.reason).to.equal(
      "canary hosts fail: unhealthy canary hosts in 3 intervals in a row (up to 2; fail after 3)",
    );
    // A healthy interval between them breaks the run: held, not failed.
    current[2].canary = { ...healthy };
    expect(judgeHostHealth(input([], current), OPTIONS)?.verdict).to.equal("inconclusive");
  });

  it("fails at once when the canary has weight and no healthy host", () => {
    const current = minutes(0, 2, stable, healthy);
    current[1].canary = { requests: 100, unhealthyHosts: 2, healthyHosts: 0 };
    const result = judgeHostHealth(input([], current), OPTIONS);
    expect(result?.verdict).to.equal("fail");
    expect(result?.reason).to.equal(
      "canary hosts fail: no healthy canary host in the interval from 2030-01-01T10:01:00.000Z " +
        "while the canary has 10% of the traffic (2 unhealthy canary hosts)",
    );
    expect(result?.details.noHealthyAt).to.equal(T0 + MIN);
  });

  it("looks at the canary's hosts only", () => {
    const current = minutes(0, 3, { requests: 900, unhealthyHosts: 3, healthyHosts: 0 }, healthy);
    expect(judgeHostHealth(input([], current), OPTIONS)?.verdict).to.equal("pass");
  });

  it("has nothing to say without the signal (old data)", () => {
    const current = minutes(0, 3, { requests: 900 }, { requests: 100 });
    expect(judgeHostHealth(input([], current), OPTIONS)).to.equal(null);
  });
});

describe("judgeSignals", () => {
  it("is null for intervals without any of the signals, so the gate behaves as before", () => {
    const old = minutes(0, 5, { requests: 900, errors: 1 }, { requests: 100, errors: 0 });
    expect(judgeSignals(input(minutes(-3, 3, { requests: 1000 }, { requests: 0 }), old))).to.equal(
      null,
    );
  });

  it("fails if any rule fails, leading with the failing rule", () => {
    const current = minutes(
      0,
      3,
      { requests: 900, connectionErrors: 0, unhealthyHosts: 0, healthyHosts: 4 },
      { requests: 100, connectionErrors: 0, unhealthyHosts: 0, healthyHosts: 2 },
      2,
    );
    current[2].canary = { requests: 100, connectionErrors: 0, unhealthyHosts: 2, healthyHosts: 0 };
    const result = judgeSignals(input(BASELINE, current), { maxErrorRate: 0.01, failAfter: 3 });
    expect(result?.verdict).to.equal("fail");
    expect(result?.reason).to.match(
      /^signals fail: canary hosts fail: no healthy canary host .* \| load-balancer 5xx pass: .* \| target connection errors pass: /,
    );
    expect(result?.details.balancerErrors?.verdict).to.equal("pass");
  });

  it("holds if a rule holds and none fails; passes (no objection) when all pass", () => {
    const current = minutes(
      0,
      3,
      { requests: 900, unhealthyHosts: 0, healthyHosts: 4 },
      { requests: 100, unhealthyHosts: 0, healthyHosts: 2 },
      2,
    );
    expect(judgeSignals(input(BASELINE, current))?.verdict).to.equal("pass");
    current[2].canary.unhealthyHosts = 1;
    const held = judgeSignals(input(BASELINE, current));
    expect(held?.verdict).to.equal("inconclusive");
    expect(held?.reason).to.match(/^signals inconclusive: canary hosts inconclusive: /);
  });

  it("refuses bad data and options in one line", () => {
    const current = minutes(0, 1, { requests: 900 }, { requests: 100, unhealthyHosts: -1 });
    expect(() => judgeSignals(input([], current))).to.throw(
      JudgeInputError,
      "intervals[0].canary.unhealthyHosts must be a finite number >= 0, got -1",
    );
    const nan = minutes(0, 1, { requests: 900 }, { requests: 100 }, NaN);
    expect(() => judgeSignals(input(nan, []))).to.throw(
      "baseline[0].balancerErrors must be a finite number >= 0, got NaN",
    );
    expect(() => judgeSignals(input([], []), { failAfter: 0 })).to.throw(
      "signals.failAfter must be an integer in [1, Infinity], got 0",
    );
    expect(() => judgeSignals(input([], []), { maxErrorRate: 2 })).to.throw(
      "signals.maxErrorRate must be a number in [0, 1], got 2",
    );
  });
});
