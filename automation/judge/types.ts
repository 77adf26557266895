/**
 * Shared data types of the canary judge. Everything here is plain data: a judge's state can be
 * stored as JSON and read back, and the same intervals always give the same verdict. The
 * intervals themselves are the metrics readers' (automation/metrics/interval.ts).
 */
import { GroupSample, Interval } from "../metrics/interval";

export type Verdict = "pass" | "fail" | "inconclusive";

/** A verdict with one human line that states the numbers behind it, and those numbers. */
export interface JudgeResult<D> {
  verdict: Verdict;
  reason: string;
  details: D;
}

/** Request and error counts of one colour. */
export interface Counts {
  requests: number;
  errors: number;
}

/** Where the current step started and how long it has run, as seen from the intervals. */
export interface StepClock {
  /** The step value of the intervals of the current step. */
  id: number;
  /** Start of the first interval of the step (epoch ms). */
  startedAt: number;
  /** End of the last interval of the step (epoch ms): start + intervalMs. */
  lastEnd: number;
}

/** An error naming the offending setting or datum, its value and what is allowed. */
export class JudgeInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JudgeInputError";
  }
}

/** Checks one sample; returns its error count (a missing count with requests > 0 is 0). */
export function sampleErrors(sample: GroupSample, where: string): number {
  const { requests, errors } = sample;
  if (!Number.isFinite(requests) || requests < 0) {
    throw new JudgeInputError(`${where}.requests must be a finite number >= 0, got ${requests}`);
  }
  if (errors === undefined) return 0;
  if (!Number.isFinite(errors) || errors < 0 || errors > requests) {
    throw new JudgeInputError(
      `${where}.errors must be a finite number between 0 and requests (${requests}), got ${errors}`,
    );
  }
  return errors;
}

/** Checks the parts of an interval every judge relies on. */
export function checkInterval(interval: Interval, lastStart: number | null): void {
  if (!Number.isFinite(interval.start)) {
    throw new JudgeInputError(`interval.start must be epoch milliseconds, got ${interval.start}`);
  }
  if (lastStart !== null && interval.start <= lastStart) {
    throw new JudgeInputError(
      `interval.start must increase: got ${interval.start} after ${lastStart} ` +
        `(an interval counted twice would bias the judge)`,
    );
  }
  if (interval.step !== undefined && !Number.isFinite(interval.step)) {
    throw new JudgeInputError(`interval.step must be a finite number, got ${interval.step}`);
  }
  for (const colour of ["stable", "canary"] as const) {
    sampleErrors(interval[colour], `interval.${colour}`);
    const p99 = interval[colour].p99Ms;
    if (p99 !== undefined && (!Number.isFinite(p99) || p99 < 0)) {
      throw new JudgeInputError(
        `interval.${colour}.p99Ms must be a finite number >= 0, got ${p99}`,
      );
    }
  }
}

/** Advances the step clock with one interval; a new step value restarts it. */
export function advanceClock(
  clock: StepClock | null,
  interval: Interval,
  intervalMs: number,
): { clock: StepClock; newStep: boolean } {
  const id = interval.step ?? 0;
  const end = interval.start + intervalMs;
  if (clock === null || clock.id !== id) {
    return { clock: { id, startedAt: interval.start, lastEnd: end }, newStep: true };
  }
  return { clock: { id: clock.id, startedAt: clock.startedAt, lastEnd: end }, newStep: false };
}

/** Rate as a fraction, or null without requests. */
export function rate(c: Counts): number | null {
  return c.requests > 0 ? c.errors / c.requests : null;
}

/** "1.23% (12/975)" or "n/a (0 requests)". */
export function formatRate(c: Counts): string {
  const r = rate(c);
  if (r === null) return "n/a (0 requests)";
  return `${(100 * r).toFixed(2)}% (${c.errors}/${c.requests})`;
}

/** Compact number for reason lines: 3 significant digits, exponent form when huge or tiny. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-3) return x.toExponential(2);
  return Number(x.toPrecision(3)).toString();
}

/** Checks a numeric option; returns it. `open` bounds exclude the end points. */
export function checkOption(
  key: string,
  value: number,
  min: number,
  max: number,
  opts: { openMin?: boolean; openMax?: boolean; integer?: boolean } = {},
): number {
  const lowOk = opts.openMin ? value > min : value >= min;
  const highOk = opts.openMax ? value < max : value <= max;
  const intOk = !opts.integer || Number.isInteger(value);
  if (!Number.isFinite(value) || !lowOk || !highOk || !intOk) {
    const lo = opts.openMin ? "(" : "[";
    const hi = opts.openMax ? ")" : "]";
    const kind = opts.integer ? "an integer" : "a number";
    throw new JudgeInputError(`${key} must be ${kind} in ${lo}${min}, ${max}${hi}, got ${value}`);
  }
  return value;
}
