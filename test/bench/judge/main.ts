/**
 * `npm run bench:judge`: the judge against Flagger-style and Argo-style threshold gates on the
 * same simulated releases. Seeded and deterministic; prints one table.
 */
import { DEFAULT_ERROR_RATE_OPTIONS } from "../../../automation/judge/errorRate";
import { DEFAULT_LATENCY_OPTIONS } from "../../../automation/judge/latency";
import { STABLE_HISTORY_INTERVALS } from "../../../automation/judge/judge";
import {
  CONTENDERS,
  P99_CEILING_MS,
  runScenario,
  SCENARIOS,
  ScenarioResult,
  summarise,
  Summary,
} from "./run";
import { LATENCY, STANDARD_SCHEDULE } from "./simulate";
import {
  DRIVER,
  formatAfterPromote,
  formatReleaseTable,
  RELEASE_RUNS,
  RELEASE_SCENARIOS,
  runReleaseScenario,
} from "./release";

export const RUNS = 1000;
export const SEED = 20250101;

function pct(x: number): string {
  return `${(100 * x).toFixed(1)} %`;
}

function minutes(x: number): string {
  return Number.isFinite(x) ? String(x) : ">60";
}

function cell(s: Summary, kind: "good" | "regression"): string {
  if (kind === "good") return `${pct(s.rolledBack)} false rollbacks`;
  return (
    `${pct(s.rolledBack).padStart(7)}  ${minutes(s.minuteMedian).padStart(3)} /` +
    `${minutes(s.minuteP90).padStart(3)} min  ${String(s.errorsMedian).padStart(4)} /` +
    `${String(s.errorsP90).padStart(4)}`
  );
}

export function formatTable(results: readonly ScenarioResult[]): string {
  const rows = results.map((r) => [
    `${r.scenario.title}${r.scenario.schedule === STANDARD_SCHEDULE ? "" : " *"}`,
    ...CONTENDERS.map((c) => cell(summarise(r.outcomes[c.id]), r.scenario.kind)),
  ]);
  const header = ["scenario", ...CONTENDERS.map((c) => c.title)];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join(" | ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("-+-"), ...rows.map(line)].join("\n");
}

function main(): void {
  const t0 = process.hrtime.bigint();
  const results = SCENARIOS.map((s, i) => runScenario(s, i, RUNS, SEED));
  const releases = RELEASE_SCENARIOS.map((s, i) => ({
    s,
    r: runReleaseScenario(s, i, RELEASE_RUNS, SEED),
  }));
  const afterPromote = releases
    .map(({ s, r }, i) => ({ s, r, i }))
    .filter(({ r }) => r.pausedShort + r.pausedUndecided > 0)
    .map(({ s, r, i }) => ({
      s,
      r,
      promoted: runReleaseScenario(s, i, RELEASE_RUNS, SEED, undefined, 1),
    }));
  const w10 = summarise(results[SCENARIOS.findIndex((s) => s.id === "1-2-w10")].outcomes["judge"]);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const e = DEFAULT_ERROR_RATE_OPTIONS;
  const l = DEFAULT_LATENCY_OPTIONS;
  const out = [
    `Canary judge benchmark: ${RUNS} simulated releases per scenario, seed ${SEED}, 100 req/s,`,
    `one check per minute for 60 minutes; weights 10/25/50/100 % x 15 min (* = 10 % for 60 min).`,
    `judge: error-rate mixture SPRT, allowed ratio ${e.allowedRatio}, alpha ${e.alpha}; ` +
      `latency paired sign SPRT on p99 ratios, allowed ratio ${l.allowedRatio}, alpha ${l.alpha}; ` +
      `as the metrics gate, it also reads the stable's ${STABLE_HISTORY_INTERVALS} minutes before the ` +
      `first step (its dispersion; the threshold gates judge the canary alone).`,
    `Flagger-style: canary success rate >= 99 % per check, rollback at 5 failed checks.`,
    `Argo-style: canary error rate <= 1 % per check, failureLimit 3 (fails at the 4th).`,
    `Rows with p99: all gates also watch latency; threshold gates with p99 <= ${P99_CEILING_MS} ms ` +
      `(1.25 x normal).`,
    `Bursty: 0.2 % errors; a burst (starts with p 3 %/min, lasts 1-3 min) multiplies the rate by ` +
      `15, on both colours at once or on each colour alone; every colour-minute rate also x Gamma ` +
      `(CV 0.32).`,
    `p99: ${LATENCY.baseP99Ms} ms x lognormal noise per minute (shared sd ${LATENCY.sharedSd}, ` +
      `per colour ${LATENCY.groupSd}, sample-quantile variance ${LATENCY.samplingVar}/requests).`,
    `Regression cells: rolled back within 60 min | minutes to rollback median / p90 | ` +
      `failed requests served by the canary median / p90 (runs without rollback count 60 min).`,
    "",
    formatTable(results),
    "",
    `Target: 1 % -> 2 % at weight 10 %: median <= 3 min, p90 <= 5 min; judge: ` +
      `${minutes(w10.minuteMedian)} / ${minutes(w10.minuteP90)} min.`,
    "",
    `Whole releases with the CLI's defaults, ${RELEASE_RUNS} per scenario: steps ` +
      `${DRIVER.weights.join("/")} %, bake ${DRIVER.bakeMinutes} min, --max-inconclusive ` +
      `${DRIVER.maxInconclusiveMinutes}m (+${DRIVER.dataDelayMinutes} min data delay), ` +
      `--min-requests ${DRIVER.minRequests}, --error-ratio ${DRIVER.errorRatio}, --latency-ratio ` +
      `${l.allowedRatio}, --on-inconclusive pause; a pass moves on, a fail rolls back, a ` +
      `time-out pauses when short of data or undecided (evidence above 1, below 1/alpha) and ` +
      `rolls back otherwise ("timed out"); with --on-inconclusive rollback each pause would be ` +
      `a rollback at the same minute. 20->200 rps ramps over 40 min; (n min): median minute of ` +
      `the rollbacks.`,
    "",
    formatReleaseTable(releases),
    "",
    `A pause is not the end: \`promote\` gives the step another --max-inconclusive, the evidence ` +
      `going on. The same releases with one promote, at once, at each pause:`,
    formatAfterPromote(afterPromote),
    "",
    `${SCENARIOS.length * RUNS + (RELEASE_SCENARIOS.length + afterPromote.length) * RELEASE_RUNS} ` +
      `releases in ${seconds.toFixed(1)} s.`,
  ];
  console.log(out.join("\n"));
}

if (require.main === module) main();
