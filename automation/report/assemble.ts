/**
 * A release's report as data: pure, from the release's record and its metrics intervals. The
 * HTML page (html.ts) and `report --json` show exactly this.
 */
import { Color, COLORS } from "../../infra/contract/settings";
import { BASELINE_INTERVALS, labelSteps, MetricsGateSettings } from "../gates/metrics";
import { DEFAULT_ERROR_RATE_OPTIONS, initErrorRate, updateErrorRate } from "../judge";
import { Interval } from "../metrics/interval";
import { formatDuration } from "../release/duration";
import { Decision, gateNames, ReleaseState } from "../release/state";

export type PerColor<T> = Record<Color, T>;

export interface ReportInterval {
  /** Start (epoch ms); the interval lasts `metrics.intervalMs`. */
  start: number;
  /** Index of the step whose weight applied at the start; -1 before the first step. */
  step: number;
  /** Each colour's share of traffic at the interval's start, percent. */
  weights: PerColor<number>;
  requests: PerColor<number>;
  requestsPerSecond: PerColor<number>;
  /** 5xx the colour's targets answered. */
  errors: PerColor<number>;
  /** errors / requests; null without requests. */
  errorRate: PerColor<number | null>;
  /** 5xx the load balancer answered itself (no target, failed connection, timeout). */
  balancerErrors: number;
  /** balancerErrors per request of both colours; null without requests. */
  balancerErrorRate: number | null;
  p99Ms: PerColor<number | null>;
  /**
   * The judge's error-rate evidence after this interval (mixture likelihood ratio, canary vs
   * stable), recomputed from the same intervals as the metrics gate reads them; null before the
   * first step, after the release's decision, or when the release did not run the judge.
   */
  evidence: number | null;
}

export type MarkerKind =
  | "start"
  | "step"
  | "pass"
  | "fail"
  | "pause"
  | "approved"
  | "aborted"
  | "rollback"
  | "promote"
  | "end";

export interface Marker {
  at: number;
  kind: MarkerKind;
  /** Short, for the chart. */
  label: string;
  /** The whole line, for the table. */
  text: string;
}

export interface ReportData {
  format: "ecs-canary-report/1";
  stack: string;
  generatedAt: number;
  release: {
    id: string;
    version: string;
    previousVersion: string;
    stableColor: Color;
    canaryColor: Color;
    status: ReleaseState["status"];
    phase: ReleaseState["phase"];
    /** What the header says: promoted, rolled back, paused... */
    outcome: string;
    startedAt: number;
    /** When it ended (its last record), null while it runs. */
    endedAt: number | null;
    durationMs: number;
    /** The one line that decided the release (or, while it runs, the latest decision). */
    decidingLine: string | null;
    steps: { weight: number; bakeMs: number; startedAt: number | null }[];
    gates: string[];
  };
  metrics: {
    source: string;
    intervalMs: number;
    /** Start of the first interval and end of the last shown. */
    from: number;
    to: number;
    /** What the numbers could not show, e.g. intervals the source no longer has. */
    notes: string[];
  };
  evidence: {
    /** The judge fails a release when the evidence reaches this (1 / alpha). */
    threshold: number;
    alpha: number;
    allowedRatio: number;
  } | null;
  intervals: ReportInterval[];
  markers: Marker[];
}

export interface ReportInput {
  stack: string;
  release: ReleaseState;
  /** Intervals of the window, stable and canary as the release's colours, in any order. */
  intervals: Interval[];
  intervalMs: number;
  /** The source the intervals came from, for the page. */
  source: string;
  notes?: string[];
  now: number;
}

/** Statuses after which the release's record no longer changes. */
function isFinished(release: ReleaseState): boolean {
  return release.phase === "done" || release.status === "failed";
}

/**
 * The release's window of intervals: from where the metrics gate's baseline starts (the release's
 * start or BASELINE_INTERVALS before its first step, whichever is earlier) to its end.
 */
export function reportWindow(
  release: ReleaseState,
  intervalMs: number,
  now: number,
): { from: number; to: number } {
  const I = intervalMs;
  const first = release.stepStarts[0] ?? release.startedAt;
  const from = Math.floor(Math.min(release.startedAt, first - BASELINE_INTERVALS * I) / I) * I;
  const end = isFinished(release) ? release.updatedAt : now;
  // Through the interval the release ended in, once it has ended.
  const to = Math.min(Math.ceil(end / I) * I, Math.floor(now / I) * I);
  return { from, to: Math.max(from, to) };
}

function lastDecision(
  release: ReleaseState,
  match: (d: Decision) => boolean,
): Decision | undefined {
  return [...release.decisions].reverse().find(match);
}

/** The canary colour's weight at `t`, from the release's step starts and its decisions. */
function canaryWeightAt(release: ReleaseState, t: number): number {
  const promoted = lastDecision(release, (d) => d.gate === "promote" && d.verdict === "pass");
  if (promoted && promoted.at <= t && release.status !== "rolled-back") return 100;
  // The rollback's record is written once its update applied weight 0.
  const rolledBack =
    (release.status === "rolled-back" || release.status === "aborted") && isFinished(release);
  if (rolledBack && release.updatedAt <= t) return 0;
  let weight = 0;
  release.stepStarts.forEach((at, i) => {
    if (at <= t && release.steps[i] !== undefined) weight = release.steps[i].weight;
  });
  return weight;
}

function stepAt(release: ReleaseState, t: number): number {
  let step = -1;
  release.stepStarts.forEach((at, i) => {
    if (at <= t) step = i;
  });
  return step;
}

function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

function outcomeOf(release: ReleaseState): string {
  switch (release.status) {
    case "promoted":
      return release.phase === "done" ? "promoted" : "promoted (old stable not yet scaled down)";
    case "rolled-back":
      return "rolled back";
    case "aborted":
      return "aborted";
    case "failed":
      return "rollback failed";
    case "paused":
      return "paused, awaiting approval";
    case "running":
      return "in progress";
  }
}

function decidingLine(release: ReleaseState): string | null {
  if (release.status === "promoted") {
    const promoted = lastDecision(release, (d) => d.gate === "promote")?.reason ?? "promoted";
    const lastPass = lastDecision(release, (d) => d.gate === "gates" && d.verdict === "pass");
    return lastPass ? `${promoted}; the last step passed: ${lastPass.reason}` : promoted;
  }
  if (release.outcome !== undefined) return release.outcome;
  return release.decisions.at(-1)?.reason ?? null;
}

const MARKERS: Record<Decision["verdict"], MarkerKind> = {
  pass: "pass",
  fail: "fail",
  inconclusive: "fail",
  pause: "pause",
  approved: "approved",
  aborted: "aborted",
};

function markerOf(d: Decision): Marker {
  let kind = MARKERS[d.verdict];
  if (d.gate === "rollback") kind = "rollback";
  if (d.gate === "promote" && d.verdict === "pass") kind = "promote";
  const label =
    kind === "pass"
      ? `step ${d.step} passed`
      : kind === "rollback"
        ? "rollback"
        : kind === "promote"
          ? "promoted"
          : `${d.gate} ${d.verdict}`;
  return { at: d.at, kind, label, text: `${d.gate} ${d.verdict}: ${d.reason}` };
}

function markersOf(release: ReleaseState): Marker[] {
  const markers: Marker[] = [
    {
      at: release.startedAt,
      kind: "start",
      label: `deploy ${release.version}`,
      text: `release of ${release.version} on ${release.canaryColor} began (stable ${release.stableColor} ${release.previousVersion}); deploy at 0%`,
    },
  ];
  release.stepStarts.forEach((at, i) => {
    const step = release.steps[i];
    if (step === undefined) return;
    markers.push({
      at,
      kind: "step",
      label: `${step.weight}%`,
      text: `step ${i + 1}/${release.steps.length}: ${release.canaryColor} (${release.version}) at ${step.weight}%, bake ${formatDuration(step.bakeMs)}`,
    });
  });
  markers.push(...release.decisions.map(markerOf));
  if (isFinished(release)) {
    markers.push({
      at: release.updatedAt,
      kind: "end",
      label: "end",
      text: `release ${outcomeOf(release)}`,
    });
  }
  return markers.sort((a, b) => a.at - b.at);
}

/** The judge's error-rate evidence per interval start, as the metrics gate computed it. */
function evidenceByStart(
  release: ReleaseState,
  intervals: Interval[],
  intervalMs: number,
): { byStart: Map<number, number>; settings: ReportData["evidence"] } {
  const byStart = new Map<number, number>();
  const gate = release.gates.metrics as MetricsGateSettings | undefined;
  if (gate === undefined || gate.mode !== "judge" || release.stepStarts.length === 0) {
    return { byStart, settings: null };
  }
  const allowedRatio = gate.allowedErrorRatio;
  const alpha = DEFAULT_ERROR_RATE_OPTIONS.alpha;
  // The gate judged the intervals that had ended by the release's decision: later ones are not
  // its evidence.
  const decided = lastDecision(release, (d) => d.gate === "rollback" || d.gate === "promote");
  let state = initErrorRate({ allowedRatio, intervalMs });
  for (const interval of labelSteps(intervals, release.stepStarts, intervalMs)) {
    if (decided !== undefined && interval.start + intervalMs > decided.at) break;
    state = updateErrorRate(state, interval);
    byStart.set(interval.start, Math.exp(state.logEvidence));
  }
  return { byStart, settings: { threshold: 1 / alpha, alpha, allowedRatio } };
}

/** The report of a release from its record and its metrics. */
export function assembleReport(input: ReportInput): ReportData {
  const { release, intervalMs: I, now } = input;
  const window = reportWindow(release, I, now);
  const sorted = [...input.intervals]
    .filter((i) => i.start >= window.from && i.start + I <= window.to)
    .sort((a, b) => a.start - b.start);
  const byStart = new Map(sorted.map((i) => [i.start, i]));
  const { byStart: evidence, settings } = evidenceByStart(release, sorted, I);
  const colourOf = { stable: release.stableColor, canary: release.canaryColor } as const;

  const intervals: ReportInterval[] = [];
  for (let start = window.from; start + I <= window.to; start += I) {
    const interval = byStart.get(start) ?? {
      start,
      stable: { requests: 0 },
      canary: { requests: 0 },
    };
    const canaryWeight = canaryWeightAt(release, start);
    const per = <T>(f: (role: "stable" | "canary") => T): PerColor<T> => {
      const out = {} as PerColor<T>;
      for (const role of ["stable", "canary"] as const) out[colourOf[role]] = f(role);
      return out;
    };
    const requests = per((r) => interval[r].requests);
    const errors = per((r) => interval[r].errors ?? 0);
    const total = COLORS.reduce((sum, c) => sum + requests[c], 0);
    const balancerErrors = interval.balancerErrors ?? 0;
    intervals.push({
      start,
      step: stepAt(release, start),
      weights: per((r) => (r === "canary" ? canaryWeight : 100 - canaryWeight)),
      requests,
      requestsPerSecond: per((r) => interval[r].requests / (I / 1000)),
      errors,
      errorRate: per((r) => ratio(errors[colourOf[r]], requests[colourOf[r]])),
      balancerErrors,
      balancerErrorRate: ratio(balancerErrors, total),
      p99Ms: per((r) => interval[r].p99Ms ?? null),
      evidence: evidence.get(start) ?? null,
    });
  }

  const finished = isFinished(release);
  const endedAt = finished ? release.updatedAt : null;
  return {
    format: "ecs-canary-report/1",
    stack: input.stack,
    generatedAt: now,
    release: {
      id: release.id,
      version: release.version,
      previousVersion: release.previousVersion,
      stableColor: release.stableColor,
      canaryColor: release.canaryColor,
      status: release.status,
      phase: release.phase,
      outcome: outcomeOf(release),
      startedAt: release.startedAt,
      endedAt,
      durationMs: (endedAt ?? now) - release.startedAt,
      decidingLine: decidingLine(release),
      steps: release.steps.map((s, i) => ({
        weight: s.weight,
        bakeMs: s.bakeMs,
        startedAt: release.stepStarts[i] ?? null,
      })),
      gates: gateNames(release.gates),
    },
    metrics: {
      source: input.source,
      intervalMs: I,
      from: window.from,
      to: window.to,
      notes: input.notes ?? [],
    },
    evidence: settings,
    intervals,
    markers: markersOf(release),
  };
}
