import {
  DEFAULT_LATENCY_OPTIONS,
  ErrorRateSummary,
  CanaryJudgeResult,
  evaluateJudge,
  foldStableHistory,
  formatNumber,
  STABLE_HISTORY_INTERVALS,
  initJudge,
  JudgeOptions,
  judgeShortOfData,
  judgeSignals,
  judgeUndecided,
  judgeThresholds,
  resumeJudge,
  SignalsResult,
  summariseErrorRate,
  updateJudge,
  Verdict,
} from "../judge";
import { Interval } from "../metrics/interval";
import { MetricsReader } from "../metrics/reader";
import { metricsReaderFor } from "../metrics/registry";
import { UsageError } from "../release/errors";
import { Gate, GateContext, GateResult } from "../release/ports";
import { GateDefinition, numberIn, wholeIn } from "./definition";

export interface MetricsGateSettings {
  /** "judge": canary vs stable with the sequential judge; "thresholds": the canary alone against limits. */
  mode: "judge" | "thresholds";
  /** Judge: the canary's error rate may be this many times the stable's. */
  allowedErrorRatio: number;
  /** Judge: the canary's p99 may be this many times the stable's; 0 turns the latency test off. */
  allowedLatencyRatio: number;
  /** Judge: canary requests a step needs before it can pass. */
  minRequests: number;
  /** Thresholds (and the judge at 100% when the stable served nothing earlier in the release): the canary's limits. */
  maxErrorRate: number;
  maxP99Ms?: number;
  /** Thresholds: failed checks (intervals) at which the gate fails. */
  failAfter: number;
}

/** Labels each interval with the step it started in; drops those before the first step. */
export function labelSteps(
  intervals: Interval[],
  stepStarts: number[],
  intervalMs: number,
): Interval[] {
  const first = Math.floor(stepStarts[0] / intervalMs) * intervalMs;
  return intervals
    .filter((i) => i.start >= first)
    .map((i) => {
      let step = 0;
      for (let s = 0; s < stepStarts.length; s++) if (stepStarts[s] <= i.start) step = s;
      return { ...i, step };
    });
}

/**
 * Intervals before the first step that the load-balancer 5xx baseline is read from, at least:
 * the baseline runs from the release's start (the deploy at weight 0) or this many intervals
 * before the first step, whichever is earlier.
 */
export const BASELINE_INTERVALS = 3;

/** What the metrics gate keeps in the release when a step passes (ReleaseState.gateMemory). */
export interface MetricsMemory {
  /** The error-rate test over the release up to the passing check: the 100 % step's baseline. */
  errorRate: ErrorRateSummary;
}

/** The error-rate summary a release kept, if it kept one. */
function keptSummary(release: GateContext["release"]): ErrorRateSummary | null {
  const kept = release.gateMemory?.metrics as Partial<MetricsMemory> | undefined;
  return kept?.errorRate ?? null;
}

function combine(a: Verdict, b: Verdict): Verdict {
  if (a === "fail" || b === "fail") return "fail";
  if (a === "inconclusive" || b === "inconclusive") return "inconclusive";
  return "pass";
}

/**
 * Canary vs stable from live metrics. Below 100 % the sequential judge compares
 * the two colours over the whole release so far; at 100 % no stable traffic is
 * left, so the judge compares the canary with the stable's rate measured earlier in the release
 * (a release whose stable never served, e.g. AllAtOnce, holds the canary alone to the plain
 * limits). A passing step keeps the error-rate test's summary in the release (`keep`), and the
 * 100 % step goes on from it: its baseline does not depend on the metrics source still holding
 * the earlier steps' intervals (the local balancer keeps 60). A step held for too few canary
 * requests says so (shortOfData), one whose evidence holds it says so too (undecided). The
 * stable's intervals before the first step (STABLE_HISTORY_INTERVALS of them, or from the release's
 * start when that is earlier) go into the judge first as the stable's history (foldStableHistory): its dispersion is
 * known from the first interval of the first step on. In every mode the
 * load balancer's own signals (its 5xx, connection errors, canary host health) can hold or fail
 * the step.
 *
 * Only settled intervals are read: those that ended at least the reader's `settleMs` before now,
 * so an interval whose datapoints have not all arrived is never read as zero or partial. A
 * step's first interval is therefore judged `settleMs + intervalMs` after the step began at the
 * latest (`dataDelayMs`), and its bake time is counted on settled intervals. Both lengths are the
 * reader's, from the stack's metrics output.
 */
export class MetricsGate implements Gate {
  readonly name = "metrics";
  /** How long after a step starts its first settled interval can be read, at most. */
  readonly dataDelayMs: number;
  private readonly intervalMs: number;
  private readonly settleMs: number;

  constructor(
    private readonly reader: MetricsReader,
    private readonly settings: MetricsGateSettings,
  ) {
    this.intervalMs = reader.intervalMs;
    this.settleMs = reader.settleMs;
    if (!Number.isFinite(this.settleMs) || this.settleMs < 0) {
      throw new Error(
        `metrics gate settle delay must be a number of ms >= 0, got ${this.settleMs}`,
      );
    }
    this.dataDelayMs = this.settleMs + this.intervalMs;
  }

  async check({ release, step, stepIndex, now }: GateContext): Promise<GateResult> {
    const I = this.intervalMs;
    const to = now - this.settleMs;
    const stepStarts = release.stepStarts.slice(0, stepIndex + 1);
    const first = Math.floor(stepStarts[0] / I) * I;
    const since = (intervals: number) =>
      Math.floor(Math.min(release.startedAt, first - intervals * I) / I) * I;
    const from = since(Math.max(BASELINE_INTERVALS, STABLE_HISTORY_INTERVALS));
    const raw = (
      await this.reader.intervals({
        from,
        to,
        stableColor: release.stableColor,
        canaryColor: release.canaryColor,
      })
    ).filter((i) => i.start + I <= to);
    const history = raw.filter((i) => i.start < first);
    const baselineFrom = since(BASELINE_INTERVALS);
    const baseline = history.filter((i) => i.start >= baselineFrom);
    const intervals = labelSteps(raw, stepStarts, I);
    const current = intervals.filter((i) => i.step === stepIndex);
    // Until a settled interval of this step exists, the judge would still speak of the last one.
    if (current.length === 0) {
      const settle =
        this.settleMs > 0
          ? `intervals count ${this.settleMs / 1000}s after they end`
          : "intervals count once they end";
      return {
        gate: this.name,
        verdict: "inconclusive",
        reason: `no settled ${I / 1000}s interval of step ${stepIndex + 1} yet (${settle})`,
      };
    }
    // The 100 % step goes on from the summary kept when the step before it passed.
    const kept =
      step.weight === 100 && this.settings.mode === "judge" ? keptSummary(release) : null;
    const main = this.judgeColours(intervals, step, stepIndex, kept, history);
    const signals = judgeSignals(
      { baseline, current, stepIndex, canaryWeight: step.weight },
      { maxErrorRate: this.settings.maxErrorRate, failAfter: this.settings.failAfter },
    );
    return this.withSignals(main, signals);
  }

  private judgeColours(
    intervals: Interval[],
    step: GateContext["step"],
    stepIndex: number,
    kept: ErrorRateSummary | null,
    history: Interval[],
  ): GateResult {
    const s = this.settings;
    const stableServed =
      intervals.some((i) => i.stable.requests > 0) || (kept?.total.stable.requests ?? 0) > 0;
    if (s.mode === "thresholds" || (step.weight === 100 && !stableServed)) {
      const current =
        s.mode === "thresholds" ? intervals : intervals.filter((i) => i.step === stepIndex);
      const result = judgeThresholds(current, {
        errorRateMax: s.maxErrorRate,
        p99MaxMs: s.maxP99Ms,
        failAfter: s.failAfter,
        bakeMs: step.bakeMs,
        intervalMs: this.intervalMs,
      });
      return {
        gate: this.name,
        verdict: result.verdict,
        reason: result.reason,
        details: result.details,
      };
    }
    const options: JudgeOptions = {
      errorRate: {
        allowedRatio: s.allowedErrorRatio,
        minCanaryRequests: s.minRequests,
        bakeMs: step.bakeMs,
        intervalMs: this.intervalMs,
      },
      latency:
        s.allowedLatencyRatio > 0
          ? {
              allowedRatio: s.allowedLatencyRatio,
              bakeMs: step.bakeMs,
              intervalMs: this.intervalMs,
            }
          : false,
    };
    const after = kept?.lastStart ?? -Infinity;
    const state =
      kept !== null
        ? intervals.filter((i) => i.start > after).reduce(updateJudge, resumeJudge(kept, options))
        : intervals.reduce(updateJudge, foldStableHistory(initJudge(options), history));
    const result = evaluateJudge(state);
    const short = result.verdict === "inconclusive" && judgeShortOfData(state);
    const undecided = judgeUndecided(state);
    const keep: MetricsMemory | null =
      result.verdict === "pass" && step.weight < 100 && state.errorRate !== null
        ? { errorRate: summariseErrorRate(state.errorRate) }
        : null;
    return {
      gate: this.name,
      verdict: result.verdict,
      reason: result.reason,
      details: result.details,
      ...(short ? { shortOfData: this.shortOfData(state, step) } : {}),
      ...(undecided ? { undecided: undecidedBy(result) } : {}),
      ...(keep !== null ? { keep } : {}),
    };
  }

  /** What the step lacks, in numbers, and what would give it enough (see GateResult). */
  private shortOfData(
    state: ReturnType<typeof initJudge>,
    step: GateContext["step"],
  ): { reason: string; remedies: string[] } {
    const s = this.settings;
    const counts = state.errorRate?.step;
    const elapsedMs = counts ? counts.clock.lastEnd - counts.clock.startedAt : 0;
    const served = counts?.canary.requests ?? 0;
    const perSecond = elapsedMs > 0 ? served / (elapsedMs / 1000) : 0;
    const pairs = state.latency?.step?.pairs ?? 0;
    const needPairs = state.latency?.options.minIntervals;
    const reason =
      `the canary served ${served} requests in ${elapsedMs / 1000}s of settled intervals at ` +
      `${step.weight}% (${perSecond.toFixed(2)} req/s); a step needs ${s.minRequests}` +
      (needPairs !== undefined && pairs < needPairs
        ? `, and ${pairs} of the ${needPairs} intervals with a p99 for both colours`
        : "");
    return {
      reason,
      remedies: [
        "give it more time: `promote` resumes the step and waits another --max-inconclusive",
        "send traffic: on a local stack add `--load <rps>` to `promote`",
        `ask for less: abort, then roll out again with a lower --min-requests (now ${s.minRequests})`,
      ],
    };
  }

  /** The colours' verdict with the balancer's signals: the worse decides, and leads the reason. */
  private withSignals(main: GateResult, signals: SignalsResult | null): GateResult {
    if (signals === null) return main;
    const verdict = combine(main.verdict, signals.verdict);
    const reasons =
      signals.verdict === verdict && main.verdict !== verdict
        ? [signals.reason, main.reason]
        : [main.reason, signals.reason];
    return {
      gate: this.name,
      verdict,
      reason: reasons.join(" | "),
      details: { ...(main.details as object), signals: signals.details },
      // Short of data or undecided only while the signals have nothing against the step; kept
      // only on a pass.
      ...(main.shortOfData !== undefined && signals.verdict === "pass"
        ? { shortOfData: main.shortOfData }
        : {}),
      ...(main.undecided !== undefined && signals.verdict === "pass"
        ? { undecided: main.undecided }
        : {}),
      ...(main.keep !== undefined && verdict === "pass" ? { keep: main.keep } : {}),
    };
  }
}

/**
 * What holds an undecided step (judgeUndecided), in numbers, and what would settle it: each
 * held test's evidence between its pass level and its fail threshold 1/alpha.
 */
function undecidedBy(result: CanaryJudgeResult): { reason: string; remedies: string[] } {
  const held: string[] = [];
  const errors = result.details.errorRate;
  if (errors !== null && errors.verdict === "inconclusive") {
    const d = errors.details;
    held.push(
      `the error-rate evidence ${formatNumber(d.evidence)} is above the pass level ` +
        `${formatNumber(d.passMaxEvidence)} and below 1/alpha = ${formatNumber(d.failThreshold)} ` +
        `(canary ${d.canary.errors}/${d.canary.requests} 5xx vs stable ` +
        `${d.stable.errors}/${d.stable.requests} so far)`,
    );
  }
  const latency = result.details.latency;
  if (latency !== null && latency.verdict === "inconclusive") {
    const d = latency.details;
    held.push(
      `the latency evidence ${formatNumber(d.evidence)} is above the pass level ` +
        `${formatNumber(d.passMaxEvidence)} and below 1/alpha = ${formatNumber(d.failThreshold)} ` +
        `(canary p99 above ${d.allowedRatio} x the stable's in ${d.above} of ${d.pairs} intervals)`,
    );
  }
  return {
    reason:
      `${held.join("; ")}: the data lean towards a regression without showing one, and the ` +
      `tests stay valid however long they run`,
    remedies: [
      "give it more time: `promote` resumes the step and waits another --max-inconclusive",
      "send traffic: on a local stack add `--load <rps>` to `promote`",
    ],
  };
}

/** The --metrics modes, what each compares, and the default. */
const MODES = [
  ["judge", "canary vs stable"],
  ["thresholds", "canary alone"],
  ["off", ""],
] as const;
type Mode = (typeof MODES)[number][0];
const DEFAULT_MODE: Mode = "judge";

const FLAGS = {
  metrics: {
    type: "string",
    default: DEFAULT_MODE,
    describe: `Metrics gate: ${MODES.map(([mode, what]) => {
      const notes = [what, mode === DEFAULT_MODE ? "default" : ""].filter((n) => n !== "");
      return notes.length > 0 ? `${mode} (${notes.join(", ")})` : mode;
    }).join(", ")}`,
  },
  errorRatio: {
    type: "number",
    default: 1,
    describe: "Judge: canary error rate allowed, as a multiple of the stable's (default {default})",
  },
  latencyRatio: {
    type: "number",
    default: DEFAULT_LATENCY_OPTIONS.allowedRatio,
    describe:
      "Judge: canary p99 allowed in most intervals, as a multiple of the stable's in the same interval (default {default}; 0 = off)",
  },
  minRequests: {
    type: "number",
    default: 200,
    describe: "Judge: canary requests a step needs before it can pass (default {default})",
  },
  maxErrorRate: {
    type: "number",
    default: 0.01,
    describe:
      "Thresholds (and a 100% step with no earlier stable traffic): max canary error rate per interval, 0-1 (default {default})",
  },
  maxP99: {
    type: "number",
    describe:
      "Thresholds (and a 100% step with no earlier stable traffic): max canary p99 per interval, in ms",
  },
  failAfter: {
    type: "number",
    default: 3,
    describe: "Thresholds: failed intervals that fail the gate (default {default})",
  },
} as const;

function modeOf(raw: string): Mode {
  const mode = MODES.find(([m]) => m === raw)?.[0];
  if (mode === undefined) {
    const names = MODES.map(([m]) => m);
    throw new UsageError(
      `invalid --metrics "${raw}": must be ${names.slice(0, -1).join(", ")} or ${names.at(-1)}`,
    );
  }
  return mode;
}

export const metricsDefinition: GateDefinition<"metrics", typeof FLAGS, MetricsGateSettings> = {
  name: "metrics",
  flags: FLAGS,
  settings(values) {
    const mode = modeOf(values.metrics ?? FLAGS.metrics.default);
    if (mode === "off") return undefined;
    const d = FLAGS;
    const latencyRatio = values.latencyRatio ?? d.latencyRatio.default;
    return {
      mode,
      allowedErrorRatio: numberIn("errorRatio", values.errorRatio ?? d.errorRatio.default, 1, 100),
      allowedLatencyRatio: latencyRatio === 0 ? 0 : numberIn("latencyRatio", latencyRatio, 1, 100),
      minRequests: wholeIn("minRequests", values.minRequests ?? d.minRequests.default, 1, 1e9),
      maxErrorRate: numberIn("maxErrorRate", values.maxErrorRate ?? d.maxErrorRate.default, 0, 1),
      ...(values.maxP99 !== undefined
        ? { maxP99Ms: numberIn("maxP99", values.maxP99, 1, 3_600_000) }
        : {}),
      failAfter: wholeIn("failAfter", values.failAfter ?? d.failAfter.default, 1, 1000),
    };
  },
  // Judged on settled intervals only: the reader of the stack's metrics output knows how long
  // they are and when they settle.
  build: (settings, outputs) => new MetricsGate(metricsReaderFor(outputs.metricsSource), settings),
};
