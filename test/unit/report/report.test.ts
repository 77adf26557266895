import { expect } from "chai";
import { StackOutputs } from "../../../infra/contract/outputs";
import { MetricsGateSettings } from "../../../automation/gates/metrics";
import { Interval } from "../../../automation/metrics/interval";
import { keepIntervals, keptToIntervals } from "../../../automation/metrics/kept";
import { MetricsReader, MetricsWindow } from "../../../automation/metrics/reader";
import { UsageError } from "../../../automation/release/errors";
import { ArchivedRelease, ReleaseArchive, ReleaseStore } from "../../../automation/release/ports";
import { ReleaseState } from "../../../automation/release/state";
import { assembleReport, reportWindow } from "../../../automation/report/assemble";
import {
  collectReport,
  findRelease,
  keepForReport,
  ReportSources,
} from "../../../automation/report/collect";
import { ChartLibrary, escapeHtml, renderHtml } from "../../../automation/report/html";

const S = 10_000;
/** 2030-01-01T10:00:00Z, on an interval boundary. */
const T0 = Date.UTC(2030, 0, 1, 10, 0, 0);
const at = (n: number) => T0 + n * S;

const JUDGE: MetricsGateSettings = {
  mode: "judge",
  allowedErrorRatio: 1,
  allowedLatencyRatio: 0,
  minRequests: 50,
  maxErrorRate: 0.01,
  failAfter: 3,
};

/** A release of 1.0.1 on green: deployed at interval 0, 20 % from 4.5, 50 % from 8.5. */
function release(over: Partial<ReleaseState> = {}): ReleaseState {
  return {
    id: "1.0.1@1",
    version: "1.0.1",
    previousVersion: "1.0.0",
    stableColor: "blue",
    canaryColor: "green",
    steps: [
      { weight: 20, bakeMs: 30_000 },
      { weight: 50, bakeMs: 30_000 },
    ],
    gates: { manual: false, maxInconclusiveMs: 60_000, intervalMs: 5000, metrics: JUDGE },
    stepIndex: 1,
    phase: "gating",
    status: "running",
    stepStarts: [at(4.5), at(8.5)],
    stepStartedAt: at(8.5),
    approvedSteps: [],
    scaleDownDelayMs: 10_000,
    startedAt: at(0.2),
    updatedAt: at(8.5),
    decisions: [
      {
        at: at(8.4),
        step: 1,
        weight: 20,
        gate: "gates",
        verdict: "pass",
        reason: "bake: baked; metrics: canary pass",
      },
    ],
    ...over,
  };
}

/** Per interval: stable and canary requests and 5xx, and the balancer's own 5xx. */
function interval(n: number, stable: number, canary: number, canaryErrors = 0, lb = 0): Interval {
  return {
    start: at(n),
    stable: { requests: stable, errors: 0, p99Ms: 12 },
    canary: { requests: canary, errors: canaryErrors, p99Ms: canary > 0 ? 15 : undefined },
    ...(lb > 0 ? { balancerErrors: lb } : {}),
  };
}

const rolledBack = () =>
  release({
    status: "rolled-back",
    phase: "done",
    outcome: "metrics: canary fail: error rate fail: canary 5xx 30.00%",
    updatedAt: at(11.5),
    decisions: [
      ...release().decisions,
      {
        at: at(10.2),
        step: 2,
        weight: 50,
        gate: "rollback",
        verdict: "fail",
        reason: "metrics: canary fail: error rate fail: canary 5xx 30.00%",
      },
    ],
  });

describe("release report: data assembly", () => {
  it("has one interval per interval of the release's window, from the gate's baseline to its end", () => {
    const r = rolledBack();
    // Baseline: 3 intervals before the first step (4.5 -> 1.5, floored to 1) or the start (0.2 -> 0).
    expect(reportWindow(r, S, at(100))).to.deep.equal({ from: at(0), to: at(12) });
    // Still running: up to the last interval that ended.
    expect(reportWindow(release(), S, at(9.7))).to.deep.equal({ from: at(0), to: at(9) });
    const data = assembleReport({
      stack: "local",
      release: r,
      // Interval 3 missing: the source listed nothing for it (no request).
      intervals: [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((n) => interval(n, 100, 0)),
      intervalMs: S,
      source: "given",
      now: at(100),
    });
    expect(data.intervals.map((i) => i.start)).to.deep.equal(
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map(at),
    );
    expect(data.intervals[3].requests).to.deep.equal({ blue: 0, green: 0 });
    expect(data.intervals[3].errorRate).to.deep.equal({ blue: null, green: null });
  });

  it("gives each colour's weight at each interval's start: 0 before the first step, each step's, 0 after the rollback", () => {
    const data = assembleReport({
      stack: "local",
      release: rolledBack(),
      intervals: [],
      intervalMs: S,
      source: "given",
      now: at(100),
    });
    expect(data.intervals.map((i) => i.weights.green)).to.deep.equal([
      0, 0, 0, 0, 0, 20, 20, 20, 20, 50, 50, 50,
    ]);
    expect(data.intervals.every((i) => i.weights.blue + i.weights.green === 100)).to.equal(true);
    expect(data.intervals.map((i) => i.step)).to.deep.equal([
      -1, -1, -1, -1, -1, 0, 0, 0, 0, 1, 1, 1,
    ]);
    const after = assembleReport({
      stack: "local",
      release: rolledBack(),
      intervals: [],
      intervalMs: S,
      source: "given",
      now: at(100),
    });
    expect(after.release.outcome).to.equal("rolled back");
  });

  it("after a promotion the new version's colour has 100 %", () => {
    const promoted = release({
      status: "promoted",
      phase: "done",
      updatedAt: at(12.5),
      decisions: [
        ...release().decisions,
        {
          at: at(10.5),
          step: 2,
          weight: 50,
          gate: "gates",
          verdict: "pass",
          reason: "bake: baked",
        },
        {
          at: at(11.2),
          step: 2,
          weight: 50,
          gate: "promote",
          verdict: "pass",
          reason: "1.0.1 promoted: green serves 100%",
        },
      ],
    });
    const data = assembleReport({
      stack: "local",
      release: promoted,
      intervals: [],
      intervalMs: S,
      source: "given",
      now: at(100),
    });
    expect(data.intervals.map((i) => i.weights.green)).to.deep.equal([
      0, 0, 0, 0, 0, 20, 20, 20, 20, 50, 50, 50, 100,
    ]);
    expect(data.release.outcome).to.equal("promoted");
    expect(data.release.decidingLine).to.equal(
      "1.0.1 promoted: green serves 100%; the last step passed: bake: baked",
    );
    expect(data.markers.map((m) => m.kind)).to.deep.equal([
      "start",
      "step",
      "pass",
      "step",
      "pass",
      "promote",
      "end",
    ]);
  });

  it("computes rates per second and per request, target and balancer 5xx apart, and p99s", () => {
    const data = assembleReport({
      stack: "local",
      release: rolledBack(),
      intervals: [interval(9, 200, 200, 60, 8)],
      intervalMs: S,
      source: "given",
      now: at(100),
    });
    const i = data.intervals[9];
    expect(i.requestsPerSecond).to.deep.equal({ blue: 20, green: 20 });
    expect(i.errorRate).to.deep.equal({ blue: 0, green: 0.3 });
    expect(i.balancerErrors).to.equal(8);
    expect(i.balancerErrorRate).to.equal(8 / 400);
    expect(i.p99Ms).to.deep.equal({ blue: 12, green: 15 });
    expect(data.intervals[0].p99Ms).to.deep.equal({ blue: null, green: null });
  });

  it("recomputes the judge's error-rate evidence from the first step until the decision, against 1/alpha", () => {
    const intervals = [
      ...[0, 1, 2, 3, 4].map((n) => interval(n, 300, 0)),
      ...[5, 6, 7, 8].map((n) => interval(n, 240, 60)),
      interval(9, 150, 150, 45),
      interval(10, 150, 150, 45),
      interval(11, 300, 0),
    ];
    const data = assembleReport({
      stack: "local",
      release: rolledBack(),
      intervals,
      intervalMs: S,
      source: "given",
      now: at(100),
    });
    expect(data.evidence).to.deep.equal({ threshold: 1 / 0.03, alpha: 0.03, allowedRatio: 1 });
    const evidence = data.intervals.map((i) => i.evidence);
    // Before the first step, and from the interval that had not ended at the rollback
    // decision (10.2) on: none, as the gate saw none.
    expect(evidence.slice(0, 4)).to.deep.equal([null, null, null, null]);
    expect(evidence.slice(10)).to.deep.equal([null, null]);
    // No error in both colours: no information, evidence stays 1.
    expect(evidence.slice(4, 9)).to.deep.equal([1, 1, 1, 1, 1]);
    // 45 of 45 errors on the canary with equal traffic: far past the threshold.
    expect(evidence[9]).to.be.greaterThan(data.evidence!.threshold);
  });

  it("has no evidence for a release that did not run the judge", () => {
    const r = release({
      gates: {
        manual: false,
        maxInconclusiveMs: 1,
        intervalMs: 1,
        metrics: { ...JUDGE, mode: "thresholds" },
      },
    });
    const data = assembleReport({
      stack: "s",
      release: r,
      intervals: [interval(6, 10, 10, 5)],
      intervalMs: S,
      source: "given",
      now: at(9.7),
    });
    expect(data.evidence).to.equal(null);
    expect(data.intervals.every((i) => i.evidence === null)).to.equal(true);
  });

  it("heads a rolled-back release with its outcome, duration and the line that decided", () => {
    const data = assembleReport({
      stack: "local",
      release: rolledBack(),
      intervals: [],
      intervalMs: S,
      source: "given",
      now: at(100),
    });
    expect(data.release).to.include({
      version: "1.0.1",
      previousVersion: "1.0.0",
      stableColor: "blue",
      canaryColor: "green",
      outcome: "rolled back",
      endedAt: at(11.5),
      durationMs: at(11.5) - at(0.2),
      decidingLine: "metrics: canary fail: error rate fail: canary 5xx 30.00%",
    });
    expect(data.release.gates).to.deep.equal(["bake", "metrics"]);
    expect(data.release.steps).to.deep.equal([
      { weight: 20, bakeMs: 30_000, startedAt: at(4.5) },
      { weight: 50, bakeMs: 30_000, startedAt: at(8.5) },
    ]);
    expect(data.markers.find((m) => m.kind === "rollback")).to.include({ at: at(10.2) });
  });
});

describe("release report: intervals kept with a release", () => {
  it("keeps every interval of the window, compactly, and gives them back", () => {
    const source = [interval(0, 100, 0), interval(2, 80, 20, 3, 1)];
    const kept = keepIntervals(source, { from: at(0), until: at(3), intervalMs: S });
    expect(kept).to.deep.include({ intervalMs: S, from: at(0), until: at(3) });
    expect(kept.stable.requests).to.deep.equal([100, 0, 80]);
    expect(kept.canary.p99Ms).to.deep.equal([null, null, 15]);
    const back = keptToIntervals(kept);
    expect(back.map((i) => i.start)).to.deep.equal([at(0), at(1), at(2)]);
    expect(back[2]).to.deep.equal({
      start: at(2),
      stable: { requests: 80, errors: 0, p99Ms: 12 },
      canary: { requests: 20, errors: 3, p99Ms: 15 },
      balancerErrors: 1,
    });
  });

  it("keeps an interval that has not ended out", () => {
    const kept = keepIntervals([interval(0, 1, 1), interval(1, 1, 1)], {
      from: at(0),
      until: at(1.5),
      intervalMs: S,
    });
    expect(kept.until).to.equal(at(1));
    expect(kept.stable.requests).to.deep.equal([1]);
  });

  it("merges intervals of a long window to stay within the bound: counts add up, p99 is the largest", () => {
    const source = [0, 1, 2, 3, 4, 5].map((n) => ({
      ...interval(n, 10, 10, 1, 1),
      canary: { requests: 10, errors: 1, p99Ms: 10 + n },
    }));
    const kept = keepIntervals(source, { from: at(0), until: at(6), intervalMs: S }, 3);
    expect(kept.intervalMs).to.equal(2 * S);
    expect(kept.stable.requests).to.deep.equal([20, 20, 20]);
    expect(kept.canary.errors).to.deep.equal([2, 2, 2]);
    expect(kept.canary.p99Ms).to.deep.equal([11, 13, 15]);
    expect(kept.balancerErrors).to.deep.equal([2, 2, 2]);
  });
});

class Store implements ReleaseStore, ReleaseArchive {
  entries: ArchivedRelease[] = [];
  constructor(public current?: ReleaseState) {}
  async read() {
    return this.current;
  }
  async write(state: ReleaseState) {
    this.current = state;
  }
  async archived() {
    return this.entries;
  }
  async archive(entry: ArchivedRelease) {
    this.entries = [...this.entries.filter((e) => e.release.id !== entry.release.id), entry];
  }
}

class Reader implements MetricsReader {
  readonly description = "test source";
  readonly windows: MetricsWindow[] = [];
  failing = false;
  constructor(
    public data: Interval[],
    readonly intervalMs = S,
    readonly settleMs = 0,
  ) {}
  async intervals(w: MetricsWindow) {
    this.windows.push(w);
    if (this.failing) throw new Error("connect ECONNREFUSED 127.0.0.1:1");
    return this.data.filter((i) => i.start >= w.from && i.start + this.intervalMs <= w.to);
  }
}

function sources(store: Store, reader: Reader, now: number, deployed = true): ReportSources {
  return {
    stack: "local",
    releases: store,
    archive: store,
    outputs: async () => (deployed ? ({} as StackOutputs) : undefined),
    reader: () => reader,
    now: () => now,
  };
}

const all = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((n) => interval(n, 100, n > 4 ? 30 : 0));

describe("release report: where its data comes from", () => {
  it("reads a running release's intervals from the metrics source", async () => {
    const store = new Store(release());
    const reader = new Reader(all);
    const data = await collectReport(sources(store, reader, at(9.7)));
    expect(reader.windows[0]).to.include({ from: at(0), to: at(9), stableColor: "blue" });
    expect(data.intervals).to.have.length(9);
    expect(data.metrics.source).to.equal("test source");
  });

  it("keeps a finished release with its settled intervals; its report later needs no source", async () => {
    const store = new Store(rolledBack());
    const reader = new Reader(all);
    const kept = await keepForReport(sources(store, reader, at(12.1)), rolledBack());
    expect(kept?.metrics?.stable.requests).to.have.length(12);
    // The source has dropped them; the stack was updated since.
    reader.data = [];
    store.current = release({ id: "1.0.2@2", version: "1.0.2" });
    const data = await collectReport(sources(store, reader, at(500)), "1.0.1@1");
    expect(data.intervals.map((i) => i.requests.green)).to.deep.equal(
      all.map((i) => i.canary.requests),
    );
    expect(data.metrics.source).to.equal("intervals kept with the release");
    // Even with no stack outputs at all (destroyed).
    const gone = await collectReport(sources(store, reader, at(500), false), "1.0.1@1");
    expect(gone.intervals).to.have.length(12);
    expect(gone.metrics.notes[0]).to.match(/has no outputs now/);
  });

  it("keeps nothing of a release still running", async () => {
    const store = new Store(release());
    expect(await keepForReport(sources(store, new Reader(all), at(9.7)), release())).to.equal(
      undefined,
    );
    expect(store.entries).to.deep.equal([]);
  });

  it("reads the release as recorded, not a command's copy of it, when keeping it", async () => {
    const stale = { ...rolledBack(), updatedAt: at(0.2) };
    const store = new Store(rolledBack());
    const kept = await keepForReport(sources(store, new Reader(all), at(12.1)), stale);
    expect(kept?.release.updatedAt).to.equal(at(11.5));
    expect(kept?.metrics?.until).to.equal(at(12));
  });

  it("reads what was not settled when kept from the source again (CloudWatch's late data)", async () => {
    const store = new Store(rolledBack());
    const late = new Reader(all, S, 3 * S);
    await keepForReport(sources(store, late, at(12.1)), rolledBack());
    expect(store.entries[0].metrics?.until).to.equal(at(9));
    const data = await collectReport(sources(store, late, at(20)));
    expect(late.windows.at(-1)).to.include({ from: at(9), to: at(12) });
    expect(data.intervals.map((i) => i.requests.blue)).to.deep.equal(all.map(() => 100));
  });

  it("says when the source cannot be read, and shows what it has", async () => {
    const store = new Store(release());
    const reader = new Reader(all);
    reader.failing = true;
    const data = await collectReport(sources(store, reader, at(9.7)));
    expect(data.metrics.notes).to.deep.equal([
      "could not read test source: connect ECONNREFUSED 127.0.0.1:1",
    ]);
    expect(data.intervals.every((i) => i.requests.blue === 0)).to.equal(true);
  });

  it("refuses an unknown release id with the ids it keeps", async () => {
    const store = new Store(release());
    await store.archive({ release: rolledBack() });
    store.current = release({ id: "1.0.2@2" });
    try {
      await findRelease(sources(store, new Reader([]), at(1)), "nope");
      expect.fail("no error");
    } catch (err) {
      expect(err).to.be.instanceOf(UsageError);
      expect((err as Error).message).to.equal(
        'invalid --release "nope": stack local keeps these releases: 1.0.1@1, 1.0.2@2 (the current one and the last finished ones)',
      );
    }
  });

  it("without an id: the current release, or the last kept one", async () => {
    const store = new Store();
    await store.archive({ release: rolledBack() });
    expect((await findRelease(sources(store, new Reader([]), at(1)))).release.id).to.equal(
      "1.0.1@1",
    );
    store.current = release({ id: "1.0.2@2" });
    expect((await findRelease(sources(store, new Reader([]), at(1)))).release.id).to.equal(
      "1.0.2@2",
    );
  });
});

const LIBRARY: ChartLibrary = {
  name: "uPlot",
  version: "test",
  script: "window.uPlot = function () {}; /* </script> inside */",
  style: ".u{}",
};

describe("release report: the HTML page", () => {
  const data = assembleReport({
    stack: "local",
    release: rolledBack(),
    intervals: all,
    intervalMs: S,
    source: "given",
    now: at(100),
  });

  it("forbids every fetch with its Content-Security-Policy, and inlines the library", () => {
    const html = renderHtml(data, LIBRARY);
    expect(html).to.contain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">`,
    );
    expect(html).to.not.match(/<(script|link|img)[^>]+(src|href)=/i);
    expect(html).to.contain("window.uPlot = function () {}; /* <\\/script> inside */");
  });

  it("carries the data as JSON that a closing tag in a text cannot break out of", () => {
    const hostile = {
      ...data,
      release: { ...data.release, decidingLine: "</script><script>alert(1)</script>" },
    };
    const html = renderHtml(hostile, LIBRARY);
    const json = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html);
    expect(JSON.parse(json![1]).release.decidingLine).to.equal(
      "</script><script>alert(1)</script>",
    );
    expect(html).to.contain(escapeHtml("</script><script>alert(1)</script>"));
    expect(html).to.not.contain("<script>alert(1)");
  });

  it("has one chart element per chart, the evidence chart only with the judge's evidence", () => {
    const html = renderHtml(data, LIBRARY);
    const ids = [...html.matchAll(/<div class="chart" id="([^"]+)">/g)].map((m) => m[1]);
    expect(ids).to.deep.equal([
      "chart-weights",
      "chart-rps",
      "chart-5xx",
      "chart-p99",
      "chart-evidence",
    ]);
    const none = renderHtml({ ...data, evidence: null }, LIBRARY);
    expect(none).to.not.contain('id="chart-evidence"');
  });
});
