import { expect } from "chai";
import { Random, logFactorial } from "../../bench/judge/random";
import { quantile, runScenario, SCENARIOS, summarise } from "../../bench/judge/run";
import { simulate, STANDARD_SCHEDULE } from "../../bench/judge/simulate";
import {
  DRIVER,
  figureAndTarget,
  RELEASE_SCENARIOS,
  ReleaseSummary,
  runRelease,
} from "../../bench/judge/release";

function moments(xs: number[]): { mean: number; variance: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, variance };
}

describe("judge/bench: simulator and runner", () => {
  it("draws the same stream for the same seed and another for another seed", () => {
    const a = new Random(1, 2, 3);
    const b = new Random(1, 2, 3);
    const c = new Random(1, 2, 4);
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).to.deep.equal(xs);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.to.deep.equal(xs);
  });

  it("computes log factorials on both sides of the table", () => {
    expect(logFactorial(5)).to.be.closeTo(Math.log(120), 1e-12);
    let exact = 0;
    for (let k = 1; k <= 300; k++) exact += Math.log(k);
    expect(logFactorial(300)).to.be.closeTo(exact, 1e-9);
  });

  for (const mean of [0.6, 6, 54, 540]) {
    it(`samples Poisson(${mean}) with the right mean and variance`, () => {
      const rng = new Random(7, Math.round(mean * 10));
      const { mean: m, variance: v } = moments(
        Array.from({ length: 20000 }, () => rng.poisson(mean)),
      );
      // Standard error of the mean is sqrt(mean/20000); allow 5 of them.
      expect(m).to.be.closeTo(mean, 5 * Math.sqrt(mean / 20000));
      expect(v / mean).to.be.closeTo(1, 0.06);
    });
  }

  it("samples Gamma(10) with mean 10 and variance 10", () => {
    const rng = new Random(11);
    const { mean, variance } = moments(Array.from({ length: 20000 }, () => rng.gamma(10)));
    expect(mean).to.be.closeTo(10, 0.15);
    expect(variance).to.be.closeTo(10, 0.6);
  });

  it("simulates a release that follows the schedule", () => {
    const s = SCENARIOS.find((x) => x.id === "1-2");
    if (!s) throw new Error("scenario 1-2 missing");
    const trace = simulate(s, new Random(3));
    expect(trace).to.have.length(60);
    expect(trace.map((t) => t.step)).to.deep.equal(
      STANDARD_SCHEDULE.flatMap((st, i) => Array(st.minutes).fill(i)),
    );
    const w10 = trace.slice(0, 15).reduce((a, t) => a + t.canary.requests, 0);
    expect(w10 / (15 * 6000)).to.be.closeTo(0.1, 0.01);
    expect(
      trace.slice(45).every((t) => t.stable.requests === 0 && t.stable.p99Ms === undefined),
    ).to.equal(true);
    expect(simulate(s, new Random(3))).to.deep.equal(trace);
  });

  it("is deterministic and rolls back a clear regression", () => {
    const s = SCENARIOS.find((x) => x.id === "0.1-1.1");
    if (!s) throw new Error("scenario 0.1-1.1 missing");
    const a = runScenario(s, 0, 20, 42);
    expect(runScenario(s, 0, 20, 42)).to.deep.equal(a);
    expect(summarise(a.outcomes.judge).rolledBack).to.equal(1);
  });

  it("takes nearest-rank quantiles and summarises outcomes", () => {
    expect(quantile([5, 1, 4, 2, 3], 0.5)).to.equal(3);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).to.equal(9);
    const s = summarise([
      { minute: 2, canaryErrors: 10 },
      { minute: null, canaryErrors: 100 },
      { minute: 4, canaryErrors: 20 },
    ]);
    expect(s).to.deep.equal({
      rolledBack: 2 / 3,
      minuteMedian: 4,
      minuteP90: Infinity,
      errorsMedian: 20,
      errorsP90: 100,
    });
  });

  it("runs whole releases: a time-out pauses short of data or undecided, at the step's time-out", () => {
    const timeout = DRIVER.bakeMinutes + DRIVER.maxInconclusiveMinutes + DRIVER.dataDelayMinutes;
    const ends = new Map<string, number>();
    for (const id of ["r-bursts-both", "r-low"]) {
      const s = RELEASE_SCENARIOS.find((x) => x.id === id);
      if (!s) throw new Error(`scenario ${id} missing`);
      for (let r = 0; r < 150; r++) {
        const o = runRelease(s, new Random(5, r));
        ends.set(`${id} ${o.end}`, (ends.get(`${id} ${o.end}`) ?? 0) + 1);
        if (o.end === "paused-short" || o.end === "paused-undecided") {
          // Only at a time-out: the earlier steps took their bake at least, this one all of it.
          expect(o.minute).to.be.at.least(o.step * DRIVER.bakeMinutes + timeout);
        }
      }
    }
    expect(ends.get("r-bursts-both paused-undecided") ?? 0).to.be.greaterThan(0);
    expect(ends.get("r-bursts-both paused-short") ?? 0).to.equal(0);
    expect(ends.get("r-low paused-short") ?? 0).to.be.greaterThan(140);
    expect(ends.get("r-low paused-undecided") ?? 0).to.equal(0);
  });

  it("goes on from a pause after a promote, the same release up to it, with another --max-inconclusive", () => {
    const s = RELEASE_SCENARIOS.find((x) => x.id === "r-bursts-both");
    if (!s) throw new Error("scenario r-bursts-both missing");
    let resumed = 0;
    for (let r = 0; r < 150; r++) {
      const plain = runRelease(s, new Random(5, r));
      const promoted = runRelease(s, new Random(5, r), undefined, 1);
      if (plain.end !== "paused-undecided") {
        expect(promoted).to.deep.equal(plain);
        continue;
      }
      resumed++;
      // The step went on past the pause; a second pause comes a whole allowance later.
      expect(promoted.minute).to.be.greaterThan(plain.minute);
      if (promoted.end === "paused-undecided" && promoted.step === plain.step) {
        expect(promoted.minute).to.equal(
          plain.minute + DRIVER.maxInconclusiveMinutes + DRIVER.dataDelayMinutes,
        );
      }
    }
    expect(resumed).to.be.greaterThan(0);
  });

  it("prints rollbacks and pauses apart, and what --on-inconclusive rollback would give", () => {
    const r: ReleaseSummary = {
      runs: 1000,
      promoted: 0.9,
      failed: 0.03,
      failedByLatency: 0,
      timedOut: 0.01,
      latencyRollbacks: 0,
      pausedShort: 0.02,
      pausedUndecided: 0.04,
      latencyPauses: 0,
      failedBeforeFull: 0.03,
      pausedBeforeFull: 0.06,
      minuteMedian: 9,
      minuteMax: 30,
    };
    expect(figureAndTarget({ kind: "falseRollbacks", max: 0.05 }, r)).to.deep.equal([
      "4.0 % rolled back, 6.0 % paused (10.0 % with --on-inconclusive rollback)",
      "<= 5.0 %",
      true,
    ]);
    expect(figureAndTarget({ kind: "falseRollbacks", max: 0.03 }, r)[2]).to.equal(false);
    expect(figureAndTarget({ kind: "caughtBeforeFull", min: 0.8 }, r)).to.deep.equal([
      "3.0 % failed before 100 % (0.0 % by latency), 6.0 % paused",
      ">= 80.0 %",
      false,
    ]);
  });
});
