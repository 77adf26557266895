import { expect } from "chai";
import { StackOutputs } from "../../../infra/contract/outputs";
import { gatesFor } from "../../../automation/gates/registry";
import { GateContext } from "../../../automation/release/ports";
import {
  labelSteps,
  MetricsGate,
  MetricsGateSettings,
  MetricsMemory,
} from "../../../automation/gates/metrics";
import { CanaryJudgeResult, formatNumber, ThresholdDetails } from "../../../automation/judge";
import { Interval } from "../../../automation/metrics/interval";
import { MetricsReader, MetricsWindow } from "../../../automation/metrics/reader";
import { Step } from "../../../automation/release/plan";
import { ReleaseState } from "../../../automation/release/state";

const MIN = 60_000;
/** 2030-01-01T10:00:00Z, a minute boundary. */
const T0 = Date.UTC(2030, 0, 1, 10, 0, 0);
const at = (minute: number) => T0 + minute * MIN;

/** Stands in for CloudWatch: answers the intervals it was given and records the windows asked. */
class GivenIntervals implements MetricsReader {
  readonly description = "given intervals";
  readonly windows: MetricsWindow[] = [];
  constructor(
    private readonly data: Interval[],
    readonly intervalMs = MIN,
    readonly settleMs = 0,
  ) {}
  async intervals(window: MetricsWindow): Promise<Interval[]> {
    this.windows.push(window);
    return this.data;
  }
}

const SETTINGS: MetricsGateSettings = {
  mode: "judge",
  allowedErrorRatio: 1,
  allowedLatencyRatio: 1.5,
  minRequests: 200,
  maxErrorRate: 0.01,
  failAfter: 3,
};

const STEPS: Step[] = [
  { weight: 10, bakeMs: 5 * MIN },
  { weight: 50, bakeMs: 5 * MIN },
  { weight: 100, bakeMs: 2 * MIN },
];

function releaseAt(stepIndex: number, stepStarts: number[]): ReleaseState {
  return {
    id: "rel-2030-01-01",
    version: "1.0.1",
    previousVersion: "1.0.0",
    stableColor: "blue",
    canaryColor: "green",
    steps: STEPS,
    gates: {
      manual: false,
      metrics: SETTINGS,
      maxInconclusiveMs: 10 * MIN,
      intervalMs: 15_000,
    },
    stepIndex,
    phase: "gating",
    status: "running",
    stepStartedAt: stepStarts[stepIndex],
    stepStarts,
    approvedSteps: [],
    scaleDownDelayMs: MIN,
    startedAt: stepStarts[0] - 30_000,
    updatedAt: stepStarts[stepIndex],
    decisions: [],
  };
}

const OUTPUTS = {
  platform: "local",
  url: "http://127.0.0.1:1/",
  canaryWeight: 10,
  stableColor: "blue",
  canaryColor: "green",
  weights: { blue: 90, green: 10 },
} as StackOutputs;

function context(stepIndex: number, stepStarts: number[], now: number): GateContext {
  const release = releaseAt(stepIndex, stepStarts);
  return {
    release,
    step: release.steps[stepIndex],
    stepIndex,
    outputs: OUTPUTS,
    now,
    elapsedMs: now - stepStarts[stepIndex],
  };
}

/** Minutes `from` to `to` (exclusive) with the same traffic in each. */
function minutes(
  from: number,
  to: number,
  canary: Interval["canary"],
  stable: Interval["stable"],
): Interval[] {
  return Array.from({ length: to - from }, (_, i) => ({
    start: at(from + i),
    canary: { ...canary },
    stable: { ...stable },
  }));
}

describe("labelSteps", () => {
  it("labels each interval with the step it started in and drops those before the first step", () => {
    const intervals = minutes(-2, 5, { requests: 1 }, { requests: 9 });
    const labelled = labelSteps(intervals, [at(0) + 10_000, at(2) + 30_000, at(4)], MIN);
    expect(labelled.map((i) => [i.start, i.step])).to.deep.equal([
      [at(0), 0],
      [at(1), 0],
      [at(2), 0],
      [at(3), 1],
      [at(4), 2],
    ]);
  });

  it("keeps the samples and does not change its input", () => {
    const intervals: Interval[] = [
      { start: at(0), canary: { requests: 10, errors: 1, p99Ms: 80 }, stable: { requests: 90 } },
    ];
    expect(labelSteps(intervals, [at(0)], MIN)).to.deep.equal([
      {
        start: at(0),
        step: 0,
        canary: { requests: 10, errors: 1, p99Ms: 80 },
        stable: { requests: 90 },
      },
    ]);
    expect(intervals[0]).to.not.have.property("step");
  });
});

describe("MetricsGate", () => {
  it("is named metrics and asks the source for the release so far and the stable's history before it, by colour", async () => {
    const source = new GivenIntervals([]);
    const gate = new MetricsGate(source, SETTINGS);
    expect(gate.name).to.equal("metrics");
    // The release started 30 s before its first step: the history reaches 15 intervals back.
    await gate.check(context(1, [at(0) + 10_000, at(6) + 5000], at(9) + 30_000));
    expect(source.windows).to.deep.equal([
      { from: at(-15), to: at(9) + 30_000, stableColor: "blue", canaryColor: "green" },
    ]);
  });

  it("reads from the release's start when its deploy took longer", async () => {
    const source = new GivenIntervals([]);
    const ctx = context(0, [at(10) + 10_000], at(12));
    ctx.release.startedAt = at(-12) + 40_000;
    await new MetricsGate(source, SETTINGS).check(ctx);
    expect(source.windows[0].from).to.equal(at(-12));
  });

  it("is inconclusive without data", async () => {
    const gate = new MetricsGate(new GivenIntervals([]), SETTINGS);
    const result = await gate.check(context(0, [at(0)], at(1)));
    expect(result.verdict).to.equal("inconclusive");
    expect(result.reason).to.equal(
      "no settled 60s interval of step 1 yet (intervals count once they end)",
    );
  });

  it("holds a new step until one of its own intervals has ended, whatever the last step said", async () => {
    // Step 1 passed on five clean minutes; step 2 began at minute 5, and minute 5 has not ended.
    const earlier = minutes(0, 5, { requests: 600, errors: 0 }, { requests: 5400, errors: 0 });
    const gate = new MetricsGate(new GivenIntervals(earlier), SETTINGS);
    const result = await gate.check(context(1, [at(0), at(5)], at(5) + 30_000));
    expect(result.verdict).to.equal("inconclusive");
    expect(result.reason).to.equal(
      "no settled 60s interval of step 2 yet (intervals count once they end)",
    );
  });

  describe("settled intervals only", () => {
    const SETTLE = 180_000;

    /** Answers like CloudWatch: the intervals of the window that have ended by its end. */
    class Windowed extends GivenIntervals {
      override async intervals(window: MetricsWindow): Promise<Interval[]> {
        const all = await super.intervals(window);
        return all.filter((i) => i.start >= window.from && i.start + MIN <= window.to);
      }
    }

    it("exposes its data delay: the settle delay and one interval", () => {
      expect(new MetricsGate(new GivenIntervals([], MIN, SETTLE), SETTINGS).dataDelayMs).to.equal(
        240_000,
      );
      expect(new MetricsGate(new GivenIntervals([], 10_000), SETTINGS).dataDelayMs).to.equal(
        10_000,
      );
      expect(() => new MetricsGate(new GivenIntervals([], MIN, -1), SETTINGS)).to.throw(
        "metrics gate settle delay must be a number of ms >= 0, got -1",
      );
    });

    it("asks only for intervals that ended the settle delay before now", async () => {
      const source = new GivenIntervals([], MIN, SETTLE);
      await new MetricsGate(source, SETTINGS).check(context(0, [at(0)], at(9) + 30_000));
      expect(source.windows[0].to).to.equal(at(6) + 30_000);
    });

    it("holds a step until an interval of its own has settled, and says so", async () => {
      const data = minutes(0, 5, { requests: 1000, errors: 0 }, { requests: 9000, errors: 0 });
      const gate = new MetricsGate(new Windowed(data, MIN, SETTLE), SETTINGS);
      const result = await gate.check(context(0, [at(0)], at(3) + 59_000));
      expect(result.verdict).to.equal("inconclusive");
      expect(result.reason).to.equal(
        "no settled 60s interval of step 1 yet (intervals count 180s after they end)",
      );
      expect((await gate.check(context(0, [at(0)], at(4)))).reason).to.contain(
        "step baked 60s of 300s",
      );
    });

    it("does not read the newest minutes, whose datapoints have not arrived, as zero: bake time counts settled minutes", async () => {
      // At 10:05:10 CloudWatch holds minutes 0-1 and nothing yet for 2-4 (read as no requests).
      const data = [
        ...minutes(0, 2, { requests: 1000, errors: 0 }, { requests: 9000, errors: 0 }),
        ...minutes(2, 5, { requests: 0 }, { requests: 0 }),
      ];
      const now = at(5) + 10_000;
      const errorsOnly = { ...SETTINGS, allowedLatencyRatio: 0 };
      const settled = await new MetricsGate(new Windowed(data, MIN, SETTLE), errorsOnly).check(
        context(0, [at(0)], now),
      );
      expect(settled.verdict).to.equal("inconclusive");
      expect(settled.reason).to.contain("step baked 120s of 300s");
      // Without the settle delay the empty minutes would complete the bake time and pass.
      const unsettled = await new MetricsGate(new Windowed(data), errorsOnly).check(
        context(0, [at(0)], now),
      );
      expect(unsettled.verdict).to.equal("pass");
    });

    it("drops intervals a source returns past the window's end", async () => {
      const data = minutes(0, 5, { requests: 1000, errors: 0 }, { requests: 9000, errors: 0 });
      const result = await new MetricsGate(new GivenIntervals(data, MIN, SETTLE), SETTINGS).check(
        context(0, [at(0)], at(5)),
      );
      expect(result.reason).to.contain("step baked 120s of 300s");
    });
  });

  describe("the load balancer's signals", () => {
    const GOOD_STABLE = { requests: 9000, errors: 0, p99Ms: 50, connectionErrors: 0 };
    const GOOD_CANARY = {
      requests: 1000,
      errors: 0,
      p99Ms: 50,
      connectionErrors: 0,
      unhealthyHosts: 0,
      healthyHosts: 2,
    };
    /** The stable alone before the first step: 0.1 % balancer 5xx (9 a minute). */
    const before = minutes(-3, 0, { requests: 0 }, GOOD_STABLE).map((i) => ({
      ...i,
      balancerErrors: 9,
    }));
    const step1 = (balancerErrors: number, canary = GOOD_CANARY) =>
      minutes(0, 5, canary, GOOD_STABLE).map((i) => ({ ...i, balancerErrors }));

    it("passes a canary whose balancer 5xx stay at the stable's baseline, and says so", async () => {
      const result = await new MetricsGate(
        new GivenIntervals([...before, ...step1(10)]),
        SETTINGS,
      ).check(context(0, [at(0)], at(5)));
      expect(result.verdict).to.equal("pass");
      expect(result.reason).to.match(/^canary pass: error rate pass: .* \| signals pass: /);
      expect(result.reason).to.contain(
        "load-balancer 5xx pass: 50 in 5 intervals of this step vs 50 expected at the baseline " +
          "0.10% (27/27000 requests before the first step)",
      );
      expect(result.details).to.have.nested.property("signals.balancerErrors.verdict", "pass");
      expect(result.details).to.have.nested.property("errorRate.verdict", "pass");
    });

    it("takes the balancer 5xx baseline from the 3 intervals before the first step, not all the history", async () => {
      // 12 minutes more of the stable's history, with 10 times the balancer 5xx: not the baseline.
      const older = minutes(-15, -3, { requests: 0 }, GOOD_STABLE).map((i) => ({
        ...i,
        balancerErrors: 90,
      }));
      const result = await new MetricsGate(
        new GivenIntervals([...older, ...before, ...step1(10)]),
        SETTINGS,
      ).check(context(0, [at(0)], at(5)));
      expect(result.reason).to.contain(
        "vs 50 expected at the baseline 0.10% (27/27000 requests before the first step)",
      );
      // The judge reads all of it as the stable's history.
      expect(result.details).to.have.nested.property("errorRate.details.stable.requests", 180_000);
    });

    it("fails a canary the balancer answers 502 for, though its own 5xx are clean", async () => {
      // 60 balancer 5xx a minute where 10 are expected: 5 % of the canary's 1000 requests.
      const result = await new MetricsGate(
        new GivenIntervals([...before, ...step1(60)]),
        SETTINGS,
      ).check(context(0, [at(0)], at(5)));
      expect(result.verdict).to.equal("fail");
      expect(result.reason).to.match(
        /^signals fail: load-balancer 5xx fail: 300 in 5 intervals of this step vs 50 expected at the baseline 0\.10% \(27\/27000 requests before the first step\); excess 250 = 5\.00% of 5000 canary requests; p [0-9.e-]+ <= 1\.48e-4 and above the allowed 1\.00%/,
      );
      expect(result.reason).to.contain(" | canary pass: error rate pass: ");
    });

    it("holds a step with unhealthy canary hosts, also in thresholds mode", async () => {
      const data = [...before, ...step1(10)];
      data[data.length - 1].canary = { ...GOOD_CANARY, unhealthyHosts: 1, healthyHosts: 1 };
      const thresholds = { ...SETTINGS, mode: "thresholds" as const, maxErrorRate: 0.05 };
      const result = await new MetricsGate(new GivenIntervals(data), thresholds).check(
        context(0, [at(0)], at(5)),
      );
      expect(result.verdict).to.equal("inconclusive");
      expect(result.reason).to.match(
        /^signals inconclusive: canary hosts inconclusive: up to 1 unhealthy canary host in the last 1 interval of this step \(fail after 3 in a row\) \| .* \| thresholds pass: /,
      );
    });

    it("fails a 100 % step whose canary has no healthy host, reading only that step's intervals", async () => {
      const starts = [at(0), at(5)];
      const full = minutes(5, 7, GOOD_CANARY, { requests: 0 });
      full[1].canary = { ...GOOD_CANARY, unhealthyHosts: 2, healthyHosts: 0 };
      const steps = [
        { weight: 10, bakeMs: 5 * MIN },
        { weight: 100, bakeMs: 2 * MIN },
      ];
      const ctx = context(1, starts, at(7));
      ctx.release.steps = steps;
      ctx.step = steps[1];
      // The first step had unhealthy canary hosts throughout: not this step's business.
      const first = minutes(0, 5, { ...GOOD_CANARY, unhealthyHosts: 1 }, GOOD_STABLE);
      const result = await new MetricsGate(new GivenIntervals([...first, ...full]), SETTINGS).check(
        ctx,
      );
      expect(result.verdict).to.equal("fail");
      expect(result.reason).to.match(
        /^signals fail: canary hosts fail: no healthy canary host in the interval from 2030-01-01T10:06:00\.000Z while the canary has 100% of the traffic \(2 unhealthy canary hosts\)/,
      );
      // The colours' judge still speaks after the signals: the canary against the stable's earlier rate.
      expect(result.reason).to.contain(" | canary ");
      expect(result.reason).to.contain("no stable traffic this step: canary 0.00% (0/2000)");
    });
  });

  describe("below 100 %: the canary against the stable", () => {
    it("passes a canary whose 2 % errors match the stable's, though above the plain limit of 1 %", async () => {
      const data = minutes(
        0,
        5,
        { requests: 1000, errors: 20, p99Ms: 50 },
        { requests: 9000, errors: 180, p99Ms: 50 },
      );
      const gate = new MetricsGate(new GivenIntervals(data), SETTINGS);
      const result = (await gate.check(context(0, [at(0)], at(5)))) as CanaryJudgeResult & {
        gate: string;
      };
      expect(result.gate).to.equal("metrics");
      expect(result.verdict).to.equal("pass");
      expect(result.reason).to.match(/^canary pass: /);
      expect(result.reason).to.contain(
        "error rate pass: canary 5xx 2.00% (100/5000) vs stable 2.00% (900/45000) (ratio 1), allowed ratio 1;",
      );
      expect(result.reason).to.contain(
        "latency pass: canary p99 above 1.5 x the stable's in 0 of 5 intervals " +
          "(this step's mean ratio 1); evidence ",
      );
      expect(result.reason).to.contain("after 5 pairs this step");
      expect(result.details.errorRate?.details.step).to.deep.include({
        bakeMs: 5 * MIN,
        minCanaryRequests: 200,
      });
    });

    it("fails a canary at 0.8 % errors against a stable without any, though below 1 %", async () => {
      const data = minutes(
        0,
        2,
        { requests: 1000, errors: 8, p99Ms: 50 },
        { requests: 9000, errors: 0, p99Ms: 50 },
      );
      const gate = new MetricsGate(new GivenIntervals(data), SETTINGS);
      const result = await gate.check(context(0, [at(0)], at(2)));
      expect(result.verdict).to.equal("fail");
      expect(result.reason).to.match(
        /^canary fail: error rate fail: canary 5xx 0\.80% \(16\/2000\) vs stable 0\.00% \(0\/18000\)/,
      );
    });

    it("holds, then fails, a canary whose p99 is ten times the stable's; --latency-ratio 0 ignores latency", async () => {
      const data = minutes(
        0,
        7,
        { requests: 1000, errors: 0, p99Ms: 500 },
        { requests: 9000, errors: 0, p99Ms: 50 },
      );
      // Five slow minutes of five: never a pass, though the bake is over.
      const held = await new MetricsGate(new GivenIntervals(data.slice(0, 5)), SETTINGS).check(
        context(0, [at(0)], at(5)),
      );
      expect(held.verdict).to.equal("inconclusive");
      expect(held.reason).to.match(
        /^canary inconclusive: latency inconclusive: canary p99 above 1\.5 x the stable's in 5 of 5 intervals \(this step's mean ratio 10\); evidence [0-9.]+ is above the pass level 1/,
      );
      const slow = await new MetricsGate(new GivenIntervals(data), SETTINGS).check(
        context(0, [at(0)], at(7)),
      );
      expect(slow.verdict).to.equal("fail");
      expect(slow.reason).to.match(
        /^canary fail: latency fail: canary p99 above 1\.5 x the stable's in 7 of 7 intervals/,
      );

      const noLatency = { ...SETTINGS, allowedLatencyRatio: 0 };
      const ignored = await new MetricsGate(new GivenIntervals(data), noLatency).check(
        context(0, [at(0)], at(5)),
      );
      expect(ignored.verdict).to.equal("pass");
      expect(ignored.reason).to.match(/^canary pass: error rate pass: /);
      expect(ignored.reason).to.not.contain("latency");
    });

    it("holds a step until it has the canary requests --min-requests asks for", async () => {
      const data = minutes(
        0,
        5,
        { requests: 30, errors: 0, p99Ms: 50 },
        { requests: 270, errors: 0, p99Ms: 50 },
      );
      const result = await new MetricsGate(new GivenIntervals(data), SETTINGS).check(
        context(0, [at(0)], at(5)),
      );
      expect(result.verdict).to.equal("inconclusive");
      expect(result.reason).to.contain("canary served 150 requests this step, needs 200");
      // Short of data, with the numbers and what would give the step enough.
      expect(result.shortOfData).to.deep.equal({
        reason:
          "the canary served 150 requests in 300s of settled intervals at 10% (0.50 req/s); " +
          "a step needs 200",
        remedies: [
          "give it more time: `promote` resumes the step and waits another --max-inconclusive",
          "send traffic: on a local stack add `--load <rps>` to `promote`",
          "ask for less: abort, then roll out again with a lower --min-requests (now 200)",
        ],
      });
    });

    it("says it is short of data with the balancer's signals too, unless they hold the step", async () => {
      const stable = { requests: 270, errors: 0, p99Ms: 50, connectionErrors: 0 };
      const canary = { ...stable, requests: 30, unhealthyHosts: 0, healthyHosts: 2 };
      const data = minutes(0, 5, canary, stable).map((i) => ({ ...i, balancerErrors: 0 }));
      const clean = await new MetricsGate(new GivenIntervals(data), SETTINGS).check(
        context(0, [at(0)], at(5)),
      );
      expect(clean.reason).to.contain("signals pass");
      expect(clean.shortOfData?.reason).to.contain("the canary served 150 requests");
      data[4].canary = { ...canary, unhealthyHosts: 1, healthyHosts: 1 };
      const unhealthy = await new MetricsGate(new GivenIntervals(data), SETTINGS).check(
        context(0, [at(0)], at(5)),
      );
      expect(unhealthy.verdict).to.equal("inconclusive");
      expect(unhealthy).to.not.have.property("shortOfData");
    });

    it("hands the judge the stable's intervals before the first step, not the canary's probes there", async () => {
      const history = [-3, -2, -1].map((m, k) => ({
        start: at(m),
        stable: { requests: 9000, errors: [40, 160, 90][k], p99Ms: 50 },
        canary: { requests: 20, errors: 20, p99Ms: 500 },
      }));
      const first = minutes(
        0,
        1,
        { requests: 1000, errors: 16, p99Ms: 50 },
        { requests: 9000, errors: 45, p99Ms: 50 },
      );
      const result = await new MetricsGate(
        new GivenIntervals([...history, ...first]),
        SETTINGS,
      ).check(context(0, [at(0)], at(1)));
      // Taken as binomial this first minute would fail the canary (see the judge's tests).
      expect(result.verdict).to.equal("inconclusive");
      const d = (result.details as CanaryJudgeResult["details"]).errorRate?.details;
      expect(d?.dispersion).to.be.greaterThan(0.1);
      expect(d?.stable).to.deep.include({ requests: 36000, errors: 335 });
      expect(d?.canary).to.deep.include({ requests: 1000, errors: 16 });
      expect(d?.informativeIntervals).to.equal(1);
      expect(d?.step?.canary).to.deep.equal({ requests: 1000, errors: 16 });
    });

    it("is undecided, not short of data, when the evidence holds the step", async () => {
      const data = minutes(
        0,
        5,
        { requests: 1000, errors: 14, p99Ms: 50 },
        { requests: 9000, errors: 90, p99Ms: 50 },
      );
      const result = await new MetricsGate(new GivenIntervals(data), SETTINGS).check(
        context(0, [at(0)], at(5)),
      );
      expect(result.verdict).to.equal("inconclusive");
      expect(result.reason).to.contain("is above the pass level 1");
      expect(result).to.not.have.property("shortOfData");
      const evidence = (result.details as CanaryJudgeResult["details"]).errorRate?.details
        .evidence as number;
      expect(result.undecided).to.deep.equal({
        reason:
          `the error-rate evidence ${formatNumber(evidence)} is above the pass level 1 and below ` +
          "1/alpha = 33.3 (canary 70/5000 5xx vs stable 450/45000 so far): the data lean " +
          "towards a regression without showing one, and the tests stay valid however long they run",
        remedies: [
          "give it more time: `promote` resumes the step and waits another --max-inconclusive",
          "send traffic: on a local stack add `--load <rps>` to `promote`",
        ],
      });
    });

    it("is neither undecided nor short of data while baking, and not undecided when the signals hold", async () => {
      const canary = { requests: 1000, errors: 14, p99Ms: 50, unhealthyHosts: 0, healthyHosts: 2 };
      const stable = { requests: 9000, errors: 90, p99Ms: 50, connectionErrors: 0 };
      const data = minutes(0, 5, canary, stable).map((i) => ({ ...i, balancerErrors: 0 }));
      const baking = await new MetricsGate(new GivenIntervals(data.slice(0, 4)), SETTINGS).check(
        context(0, [at(0)], at(4)),
      );
      expect(baking.verdict).to.equal("inconclusive");
      expect(baking).to.not.have.property("undecided");
      expect(baking).to.not.have.property("shortOfData");
      const clean = await new MetricsGate(new GivenIntervals(data), SETTINGS).check(
        context(0, [at(0)], at(5)),
      );
      expect(clean.undecided?.reason).to.contain("the error-rate evidence");
      data[4].canary = { ...canary, unhealthyHosts: 1, healthyHosts: 1 };
      const unhealthy = await new MetricsGate(new GivenIntervals(data), SETTINGS).check(
        context(0, [at(0)], at(5)),
      );
      expect(unhealthy.verdict).to.equal("inconclusive");
      expect(unhealthy).to.not.have.property("undecided");
    });

    it("in thresholds mode holds the canary alone to --max-error-rate", async () => {
      const data = minutes(
        0,
        5,
        { requests: 1000, errors: 20, p99Ms: 50 },
        { requests: 9000, errors: 180, p99Ms: 50 },
      );
      const thresholds = { ...SETTINGS, mode: "thresholds" as const };
      const result = await new MetricsGate(new GivenIntervals(data), thresholds).check(
        context(0, [at(0)], at(5)),
      );
      expect(result.verdict).to.equal("fail");
      expect(result.reason).to.equal(
        "thresholds fail: 5 of 5 checks failed (fail at 3; error rate <= 1.00%); " +
          "last check failed: error rate 2.00% > 1.00%; failed checks reached 3 at 2030-01-01T10:02:00.000Z",
      );
    });
  });

  describe("at 100 %: no stable traffic left, the canary against the stable's earlier rate", () => {
    const starts = [at(0), at(5), at(10)];
    /** Steps at 10 % and 50 % with 2 % errors on both colours, then 100 % as given. */
    const release = (last: Interval[]) => [
      ...minutes(
        0,
        10,
        { requests: 1000, errors: 20, p99Ms: 50 },
        { requests: 9000, errors: 180, p99Ms: 50 },
      ),
      ...last,
    ];
    const canaryAlone = (from: number, to: number, errors: number, p99Ms = 50) =>
      minutes(from, to, { requests: 5000, errors, p99Ms }, { requests: 0 });

    it("passes a canary at the stable's earlier 2 %, above the plain --max-error-rate of 1 %, once the step has baked", async () => {
      const result = await new MetricsGate(
        new GivenIntervals(release(canaryAlone(10, 12, 100))),
        SETTINGS,
      ).check(context(2, starts, at(12)));
      expect(result.verdict).to.equal("pass");
      expect(result.reason).to.match(/^canary pass: error rate pass: /);
      expect(result.reason).to.contain(
        "no stable traffic this step: canary 2.00% (200/10000) vs the stable's earlier 2.00% " +
          "(upper bound 2.11%)",
      );
      expect(result.reason).to.contain("after 120s and 10000 canary requests this step");
      // Latency has nothing to pair with at 100 % and sits out.
      expect(result.reason).to.not.contain("latency");
    });

    it("holds it while the step bakes", async () => {
      const result = await new MetricsGate(
        new GivenIntervals(release(canaryAlone(10, 11, 100))),
        SETTINGS,
      ).check(context(2, starts, at(11) + 30_000));
      expect(result.verdict).to.equal("inconclusive");
      expect(result.reason).to.contain("step baked 60s of 120s");
    });

    it("holds a canary at three times the stable's earlier rate, and fails it, though the earlier steps were clean", async () => {
      const data = release(canaryAlone(10, 18, 300));
      const verdicts: string[] = [];
      for (let m = 11; m <= 18; m++) {
        const r = await new MetricsGate(
          new GivenIntervals(data.filter((i) => i.start < at(m))),
          SETTINGS,
        ).check(context(2, starts, at(m)));
        verdicts.push(r.verdict);
      }
      // Never a pass; the ten clean minutes before the step cost it 8 intervals to fail.
      expect(verdicts).to.deep.equal([...Array(7).fill("inconclusive"), "fail"]);
      const result = await new MetricsGate(new GivenIntervals(data), SETTINGS).check(
        context(2, starts, at(18)),
      );
      expect(result.reason).to.match(
        /^canary fail: error rate fail: .*no stable traffic this step: canary 6\.00% \(2400\/40000\) vs the stable's earlier 2\.00%/,
      );
    });

    it("in thresholds mode counts the earlier steps' minutes too", async () => {
      const thresholds = { ...SETTINGS, mode: "thresholds" as const };
      const result = await new MetricsGate(
        new GivenIntervals(release(canaryAlone(10, 12, 10))),
        thresholds,
      ).check(context(2, starts, at(12)));
      expect(result.verdict).to.equal("fail");
      expect(result.reason).to.equal(
        "thresholds fail: 10 of 12 checks failed (fail at 3; error rate <= 1.00%); " +
          "last check ok (10/5000 errors, p99 50 ms); failed checks reached 3 at 2030-01-01T10:02:00.000Z",
      );
    });

    describe("the baseline kept in the release", () => {
      const earlier = release([]);
      /** What the gate kept when step 2 (50 %) passed at minute 10. */
      const keptAtStep2 = async () => {
        const passed = await new MetricsGate(new GivenIntervals(earlier), SETTINGS).check(
          context(1, starts.slice(0, 2), at(10)),
        );
        expect(passed.verdict).to.equal("pass");
        return passed.keep as MetricsMemory;
      };
      /** The 100 % step at `now`, as a source that keeps only the last minutes reads it. */
      const lastStep = (kept: MetricsMemory | undefined, data: Interval[], now: number) => {
        const ctx = context(2, starts, now);
        if (kept !== undefined) ctx.release.gateMemory = { metrics: kept };
        return new MetricsGate(new GivenIntervals(data), SETTINGS).check(ctx);
      };

      it("keeps the error-rate summary as plain JSON when a step below 100 % passes, not before, not at 100 %", async () => {
        const kept = await keptAtStep2();
        expect(JSON.parse(JSON.stringify(kept))).to.deep.equal(kept);
        expect(kept.errorRate.total).to.deep.equal({
          canary: { requests: 10_000, errors: 200 },
          stable: { requests: 90_000, errors: 1800 },
        });
        expect(kept.errorRate.lastStart).to.equal(at(9));
        const baking = await new MetricsGate(new GivenIntervals(earlier), SETTINGS).check(
          context(1, starts.slice(0, 2), at(8)),
        );
        expect(baking.verdict).to.equal("inconclusive");
        expect(baking).to.not.have.property("keep");
        const full = await lastStep(kept, canaryAlone(10, 12, 100), at(12));
        expect(full.verdict).to.equal("pass");
        expect(full).to.not.have.property("keep");
      });

      it("judges the 100 % step against the kept baseline when the source no longer holds the earlier steps", async () => {
        const kept = await keptAtStep2();
        // The source reads back the 100 % step's minutes only.
        const good = await lastStep(kept, canaryAlone(10, 12, 100), at(12));
        expect(good.verdict).to.equal("pass");
        expect(good.reason).to.contain(
          "no stable traffic this step: canary 2.00% (200/10000) vs the stable's earlier 2.00% " +
            "(upper bound 2.11%)",
        );
        // Without it, the same source shows no stable traffic at all: the plain 1 % limit.
        const forgotten = await lastStep(undefined, canaryAlone(10, 13, 100), at(13));
        expect(forgotten.verdict).to.equal("fail");
        expect(forgotten.reason).to.match(/^thresholds fail: /);
        // A canary at three times the kept baseline is held, not passed, after its bake.
        const bad = await lastStep(kept, canaryAlone(10, 12, 300), at(12));
        expect(bad.verdict).to.equal("inconclusive");
        expect(bad.reason).to.contain("canary 6.00% (600/10000) vs the stable's earlier 2.00%");
      });

      it("reads a source that still holds the earlier steps alike, counting each interval once", async () => {
        const kept = await keptAtStep2();
        const data = release(canaryAlone(10, 12, 100));
        const withKept = await lastStep(kept, data, at(12));
        const withoutKept = await lastStep(undefined, data, at(12));
        expect(withKept.verdict).to.equal("pass");
        expect(withKept.reason).to.equal(withoutKept.reason);
      });
    });

    describe("a release whose stable never served (one 100 % step): the plain limits", () => {
      const allAtOnce = (stepIndex: number, now: number) => {
        const ctx = context(stepIndex, [at(0)], now);
        ctx.release.steps = [{ weight: 100, bakeMs: 2 * MIN }];
        ctx.step = ctx.release.steps[0];
        return ctx;
      };

      it("passes a good canary once the step has baked", async () => {
        const result = await new MetricsGate(
          new GivenIntervals(canaryAlone(0, 2, 10)),
          SETTINGS,
        ).check(allAtOnce(0, at(2)));
        expect(result).to.deep.include({
          gate: "metrics",
          verdict: "pass",
          reason:
            "thresholds pass: 0 of 2 checks failed (fail at 3; error rate <= 1.00%); " +
            "last check ok (10/5000 errors, p99 50 ms); step baked 120s",
        });
        expect((result.details as ThresholdDetails).step).to.deep.equal({
          id: 0,
          elapsedMs: 2 * MIN,
          bakeMs: 2 * MIN,
          checks: 2,
        });
      });

      it("fails a canary above --max-error-rate for --fail-after minutes", async () => {
        const result = await new MetricsGate(
          new GivenIntervals(canaryAlone(0, 3, 100)),
          SETTINGS,
        ).check(allAtOnce(0, at(3)));
        expect(result.verdict).to.equal("fail");
        expect(result.reason).to.equal(
          "thresholds fail: 3 of 3 checks failed (fail at 3; error rate <= 1.00%); " +
            "last check failed: error rate 2.00% > 1.00%; failed checks reached 3 at 2030-01-01T10:02:00.000Z",
        );
      });

      it("fails a canary above --max-p99", async () => {
        const settings = { ...SETTINGS, maxP99Ms: 800, failAfter: 2 };
        const result = await new MetricsGate(
          new GivenIntervals(canaryAlone(0, 2, 0, 900)),
          settings,
        ).check(allAtOnce(0, at(2)));
        expect(result.verdict).to.equal("fail");
        expect(result.reason).to.equal(
          "thresholds fail: 2 of 2 checks failed (fail at 2; error rate <= 1.00%, p99 <= 800 ms); " +
            "last check failed: p99 900 ms > 800 ms; failed checks reached 2 at 2030-01-01T10:01:00.000Z",
        );
      });
    });
  });

  describe("as the driver builds it from the stack outputs", () => {
    const metricsGate = (metricsSource: unknown) => {
      const outputs = { ...OUTPUTS, metricsSource } as StackOutputs;
      const gate = gatesFor({ ...releaseAt(0, [at(0)]).gates }, outputs).find(
        (g) => g.name === "metrics",
      );
      return gate as MetricsGate;
    };
    const cloudwatch = {
      kind: "cloudwatch",
      intervalSeconds: 60,
      region: "us-east-1",
      loadBalancerArnSuffix: "app/canary-alb/50dc6c495c0c9188",
      targetGroupArnSuffixes: {
        blue: "targetgroup/blue-tg/73e2d6bc24d8a067",
        green: "targetgroup/green-tg/943f017f100becff",
      },
    };
    const local = {
      kind: "local",
      intervalSeconds: 10,
      adminUrl: "http://127.0.0.1:1",
      targetGroupArnSuffixes: { blue: "tg-blue", green: "tg-green" },
    };

    it("waits the settle delay the outputs name, plus one interval", () => {
      expect(metricsGate({ ...cloudwatch, settleSeconds: 120 }).dataDelayMs).to.equal(180_000);
      expect(metricsGate({ ...local, settleSeconds: 20 }).dataDelayMs).to.equal(30_000);
    });

    it("waits 180 s on CloudWatch and nothing locally for stacks deployed before settleSeconds", () => {
      expect(metricsGate(cloudwatch).dataDelayMs).to.equal(240_000);
      expect(metricsGate(local).dataDelayMs).to.equal(10_000);
    });
  });
});
