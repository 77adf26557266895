import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { pathToFileURL } from "url";
import { expect } from "chai";
import { chromium } from "playwright-core";
import { MAX_KEPT_INTERVALS } from "../../../automation/metrics/kept";
import type { ReportData } from "../../../automation/report/assemble";
import { PROJECT_ROOT } from "../../../automation/stack/environment";
import { deployedStacks, DriverStack, outcome, statusOf } from "../driver/driverHarness";
import { processesMatching } from "../../unit/local/support/procScan";

const CLI = path.join(PROJECT_ROOT, "build", "automation", "cli", "main.js");
/** Screenshots and pages of the reports these tests open: kept, git-ignored. */
const ARTIFACTS = path.join(PROJECT_ROOT, "test-artifacts", "report");
/** The browser as `npm run setup` finds (or installs) it: the same script, the same order. */
function chromiumPath(): string {
  const script = path.join(PROJECT_ROOT, "scripts", "setup-chromium.sh");
  return execFileSync("bash", [script], { encoding: "utf8" }).trim();
}
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** `ecs-canary report` as a user runs it (no --json unless asked): exit code, stdout, stderr. */
function report(
  stack: DriverStack,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, "report", "--stack", stack.name, ...args],
      { cwd: PROJECT_ROOT, env: { ...process.env, ...stack.env }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

interface PageCheck {
  /** Requests the page made other than loading its own file. */
  outside: string[];
  charts: { id: string; points: number; series: number; canvas: boolean }[];
  decided: string;
}

/** Opens a report in headless Chromium, observing every request; keeps a screenshot. */
async function openInChromium(file: string, screenshot: string): Promise<PageCheck> {
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: CHROMIUM_FLAGS,
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const own = pathToFileURL(file).href;
    const outside: string[] = [];
    // Every request goes through here; anything but the page itself is noted and refused.
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url === own) return route.continue();
      outside.push(url);
      return route.abort();
    });
    page.on("request", (req) => {
      if (req.url() !== own && !outside.includes(req.url())) outside.push(req.url());
    });
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(own, { waitUntil: "load" });
    // Strings: this project's TypeScript has no DOM types; the page runs them.
    await page.waitForFunction("window.reportCharts !== undefined");
    expect(errors, "errors on the page").to.deep.equal([]);
    const charts = await page.evaluate<PageCheck["charts"]>(
      `window.reportCharts.map(({ id, chart }) => ({
        id,
        points: chart.data[0].length,
        series: chart.series.length - 1,
        canvas: document.querySelector("#" + id + " canvas") !== null,
      }))`,
    );
    const decided = (await page.textContent("#decided")) ?? "";
    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    return { outside, charts, decided };
  } finally {
    await browser.close();
  }
}

describe("ecs-canary report of a real local release, opened in headless Chromium", function () {
  this.timeout(15 * 60_000);
  const deployed = deployedStacks();

  it("draws a rolled-back release's timeline offline; the release is still reported after the next one", async () => {
    // 1-second intervals, so that a short release spans many of them.
    const s = await deployed({ metricsIntervalSeconds: "1", greenErrorRate: "0.3" });
    const bad = await s.run([
      "rollout",
      "--version",
      "1.0.2",
      "--steps",
      "30,100",
      "--bake",
      "8s",
      "--metrics",
      "judge",
      "--min-requests",
      "50",
      "--latency-ratio",
      "0",
      "--load",
      "30",
      "--interval",
      "1s",
      "--max-inconclusive",
      "1m",
    ]);
    expect(bad.code, bad.stderr).to.equal(1);
    expect(outcome(bad.events)?.kind).to.equal("rolled-back");
    const hint = /report: (npx ecs-canary report --stack \S+ --release (\S+))/.exec(bad.stderr);
    expect(hint, bad.stderr).to.not.equal(null);
    const releaseId = hint![2];

    // The data, as --json gives it.
    const json = await report(s, ["--json"]);
    expect(json.code, json.stderr).to.equal(0);
    const data = JSON.parse(json.stdout) as ReportData;
    expect(data.release).to.include({ id: releaseId, version: "1.0.2", status: "rolled-back" });
    expect(data.release.decidingLine).to.match(/^metrics: canary fail: error rate fail/);
    // The source's 1 s intervals, or, for a release longer than the 120 intervals an archived
    // release keeps (a loaded machine's updates are slow), whole multiples of them.
    const I = data.metrics.intervalMs;
    expect(I % 1000, `interval ${I} ms`).to.equal(0);
    expect(data.intervals.length).to.be.at.most(MAX_KEPT_INTERVALS);
    const starts = data.intervals.map((i) => i.start);
    expect(starts.length).to.be.greaterThan(5);
    starts.forEach((t, n) => expect(t).to.equal(data.metrics.from + n * I));
    const canary = data.intervals.filter((i) => i.weights.green === 30);
    expect(canary.length, "intervals at the 30 % step").to.be.greaterThan(0);
    expect(canary.reduce((sum, i) => sum + i.errors.green, 0)).to.be.greaterThan(0);
    expect(data.evidence?.threshold).to.be.closeTo(1 / 0.03, 1e-9);
    const evidence = data.intervals.map((i) => i.evidence).filter((e) => e !== null);
    expect(Math.max(...(evidence as number[]))).to.be.at.least(data.evidence!.threshold);
    expect(data.markers.map((m) => m.kind)).to.include.members([
      "start",
      "step",
      "rollback",
      "end",
    ]);

    // The page: written, opened offline, its charts drawn with one point per interval.
    const file = path.join(ARTIFACTS, "rolled-back.html");
    const html = await report(s, ["--release", releaseId, "--out", file]);
    expect(html.code, html.stderr).to.equal(0);
    expect(html.stdout).to.contain(file);
    const page = await openInChromium(file, path.join(ARTIFACTS, "rolled-back.png"));
    expect(page.outside, "requests that left the file").to.deep.equal([]);
    expect(page.charts.map((c) => c.id)).to.deep.equal([
      "chart-weights",
      "chart-rps",
      "chart-5xx",
      "chart-p99",
      "chart-evidence",
    ]);
    for (const chart of page.charts) {
      expect(chart.canvas, `${chart.id} has a canvas`).to.equal(true);
      expect(chart.points, chart.id).to.equal(starts.length);
    }
    expect(page.decided).to.match(/^metrics: canary fail/);

    // A second release replaces the current one; the first is kept with its intervals.
    await s.setConfig({ greenErrorRate: "0" });
    const next = await s.run([
      "rollout",
      "--version",
      "1.0.3",
      "--steps",
      "100",
      "--bake",
      "1s",
      "--metrics",
      "off",
      "--interval",
      "1s",
      "--scale-down-delay",
      "1s",
    ]);
    expect(next.code, next.stderr).to.equal(0);
    // The source loses the first release's intervals: its balancer (which would keep them for
    // three hours) is killed, so the report can only draw them from what was kept with it.
    const balancers = processesMatching(`--instance=ecs-canary/${s.name}/`).filter((p) =>
      p.cmdline.includes(path.join("balancer", "main.js")),
    );
    expect(balancers).to.have.length(1);
    process.kill(balancers[0].pid, "SIGKILL");
    const { metricsSource } = (await statusOf(s)).outputs;
    if (metricsSource.kind !== "local") throw new Error("expected the local metrics source");
    const answers = () =>
      fetch(`${metricsSource.adminUrl}/metrics`).then(
        () => true,
        () => false,
      );
    for (const deadline = Date.now() + 10_000; await answers(); ) {
      expect(Date.now(), "the killed balancer still answers").to.be.below(deadline);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const again = await report(s, ["--release", releaseId, "--json"]);
    expect(again.code, again.stderr).to.equal(0);
    const past = JSON.parse(again.stdout) as ReportData;
    expect(past.release.id).to.equal(releaseId);
    expect(past.intervals.map((i) => i.requests)).to.deep.equal(
      data.intervals.map((i) => i.requests),
    );

    const unknown = await report(s, ["--release", "9.9.9@1"]);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.match(
      /invalid --release "9.9.9@1": stack \S+ keeps these releases: /,
    );
  });
});
