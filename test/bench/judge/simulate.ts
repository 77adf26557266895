/**
 * Per-minute traffic of a canary release, stable and canary side by side.
 *
 * Requests arrive as a Poisson process (rps * 60 per minute) and the balancer sends each to the
 * canary with probability weight/100, so the two colours' counts are independent Poisson. Each
 * request fails with the colour's error rate of that minute; by Poisson splitting the errors and
 * the successes are independent Poisson, which is how they are drawn (exact, and quick).
 *
 * Bursty errors: a burst starts in a minute with probability startProbability (when none is
 * running), lasts 1..maxMinutes minutes (uniform) and multiplies the error rate by factor.
 * "shared" bursts hit both colours in the same minutes (a flaky dependency, a retry storm);
 * "perGroup" bursts come independently to each colour (a bad host, a noisy client pinned by
 * stickiness). On top, every colour's rate of every minute is multiplied by a Gamma(shape, 1/shape)
 * factor (mean 1): extra-Poisson variation. Both colours get the same model, so the same mean.
 *
 * p99 per minute: log p99 = log(base * factor) + shared + group + sampling, with
 * shared ~ N(0, sharedSd^2) for both colours (load of the minute), group ~ N(0, groupSd^2) per
 * colour, and sampling ~ N(0, samplingVar / requests): the variance of the log of a sample 99th
 * percentile of n lognormal latencies with log-sd 0.5 is about 3.5 / n
 * (p(1-p) / (n f(q)^2) with p = 0.99, f(q) = phi(2.326) / 0.5).
 */
import { Interval } from "../../../automation/metrics/interval";
import { Random } from "./random";

export interface Step {
  weight: number;
  minutes: number;
}

export interface Bursts {
  mode: "shared" | "perGroup";
  startProbability: number;
  maxMinutes: number;
  factor: number;
}

export interface ErrorModel {
  stable: number;
  canary: number;
  bursts?: Bursts;
  /** Gamma shape of the per-minute rate factor (mean 1, CV 1/sqrt(shape)); none if absent. */
  overdispersionShape?: number;
  /**
   * Beta concentration k of each colour's per-minute rate: the rate of a minute is
   * Beta(k r, k (1 - r)) around the colour's r, drawn for each colour separately.
   */
  betaConcentration?: number;
  /** The canary's rate at 100 % weight, if it differs there (a fault that needs full load). */
  canaryAtFull?: number;
}

export interface LatencyModel {
  baseP99Ms: number;
  canaryFactor: number;
  sharedSd: number;
  groupSd: number;
  samplingVar: number;
}

export interface Scenario {
  id: string;
  title: string;
  /** good: any rollback is false; regression: rollback is wanted. */
  kind: "good" | "regression";
  /** Which metrics the gates watch in this scenario. */
  metrics: "errors" | "latency" | "all";
  rps: number;
  /** Requests/s ramping linearly from rps to this over rampMinutes, then staying (none: flat). */
  rampTo?: number;
  rampMinutes?: number;
  schedule: readonly Step[];
  errors: ErrorModel;
  latency: LatencyModel;
}

export const STANDARD_SCHEDULE: readonly Step[] = [
  { weight: 10, minutes: 15 },
  { weight: 25, minutes: 15 },
  { weight: 50, minutes: 15 },
  { weight: 100, minutes: 15 },
];

export const CONSTANT_10: readonly Step[] = [{ weight: 10, minutes: 60 }];

export const LATENCY: LatencyModel = {
  baseP99Ms: 250,
  canaryFactor: 1,
  sharedSd: 0.08,
  groupSd: 0.05,
  samplingVar: 3.5,
};

export const START = Date.UTC(2025, 0, 1);

export function horizon(schedule: readonly Step[]): number {
  return schedule.reduce((t, s) => t + s.minutes, 0);
}

class BurstClock {
  private left = 0;
  constructor(private readonly b: Bursts) {}
  /** Whether the current minute is in a burst; advances one minute. */
  tick(rng: Random): boolean {
    if (this.left === 0 && rng.uniform() < this.b.startProbability) {
      this.left = 1 + rng.int(this.b.maxMinutes);
    }
    if (this.left > 0) {
      this.left--;
      return true;
    }
    return false;
  }
}

/** Requests per second in the given minute of the release (before it: as at its start). */
export function rpsAt(s: Scenario, minute: number): number {
  if (s.rampTo === undefined || s.rampMinutes === undefined) return s.rps;
  return s.rps + (s.rampTo - s.rps) * Math.min(1, Math.max(0, minute) / s.rampMinutes);
}

/** Draws a release's intervals one minute at a time, at whatever weight the caller says. */
export type MinuteSampler = (minute: number, weight: number, stepIndex: number) => Interval;

export function minuteSampler(s: Scenario, rng: Random): MinuteSampler {
  const { bursts, overdispersionShape, betaConcentration } = s.errors;
  const sharedClock = bursts?.mode === "shared" ? new BurstClock(bursts) : null;
  const stableClock = bursts?.mode === "perGroup" ? new BurstClock(bursts) : null;
  const canaryClock = bursts?.mode === "perGroup" ? new BurstClock(bursts) : null;
  return (minute, weight, stepIndex) => {
    const perMinute = rpsAt(s, minute) * 60;
    const shared = sharedClock ? sharedClock.tick(rng) : false;
    const stableBurst = shared || (stableClock ? stableClock.tick(rng) : false);
    const canaryBurst = shared || (canaryClock ? canaryClock.tick(rng) : false);
    const rateOf = (base: number, burst: boolean): number => {
      const b = burst && bursts ? bursts.factor : 1;
      const g = overdispersionShape ? rng.gamma(overdispersionShape) / overdispersionShape : 1;
      let r = base * b * g;
      if (betaConcentration) {
        const k = betaConcentration;
        const x = rng.gamma(Math.max(1, k * r));
        const y = rng.gamma(Math.max(1, k * (1 - r)));
        r = x / (x + y);
      }
      return Math.min(1, r);
    };
    const canaryBase =
      weight === 100 && s.errors.canaryAtFull !== undefined
        ? s.errors.canaryAtFull
        : s.errors.canary;
    const stableRate = rateOf(s.errors.stable, stableBurst);
    const canaryRate = rateOf(canaryBase, canaryBurst);
    const canaryMean = (perMinute * weight) / 100;
    const stableMean = perMinute - canaryMean;
    const group = (mean: number, errorRate: number, latencyFactor: number, common: number) => {
      const errors = rng.poisson(mean * errorRate);
      const requests = errors + rng.poisson(mean * (1 - errorRate));
      const l = s.latency;
      const p99Ms =
        requests > 0
          ? l.baseP99Ms *
            latencyFactor *
            Math.exp(
              common +
                l.groupSd * rng.normal() +
                Math.sqrt(l.samplingVar / requests) * rng.normal(),
            )
          : undefined;
      // CloudWatch publishes no 5xx datapoint for a minute without 5xx.
      return { requests, errors: errors > 0 ? errors : undefined, p99Ms };
    };
    const common = s.latency.sharedSd * rng.normal();
    return {
      start: START + minute * 60_000,
      step: stepIndex,
      stable: group(stableMean, stableRate, 1, common),
      canary: group(canaryMean, canaryRate, s.latency.canaryFactor, common),
    };
  };
}

/** One release's intervals on a fixed schedule; the same scenario and seed give the same trace. */
export function simulate(s: Scenario, rng: Random): Interval[] {
  const out: Interval[] = [];
  const sample = minuteSampler(s, rng);
  let minute = 0;
  s.schedule.forEach((step, stepIndex) => {
    for (let i = 0; i < step.minutes; i++, minute++)
      out.push(sample(minute, step.weight, stepIndex));
  });
  return out;
}

/**
 * The stable's last `minutes` before the first step (weight 0), as the metrics gate reads them
 * (STABLE_HISTORY_INTERVALS of them) and hands them to the judge as the
 * stable's history. From its own stream, so a release's trace is the same with or without it.
 */
export function stableHistory(s: Scenario, rng: Random, minutes: number): Interval[] {
  const sample = minuteSampler(s, rng);
  const out: Interval[] = [];
  for (let m = -minutes; m < 0; m++) out.push(sample(m, 0, -1));
  return out;
}
