/**
 * A report as one self-contained HTML page: the report's data as JSON, uPlot (a small canvas
 * chart library, inlined from node_modules at report time) and a few lines that build the
 * charts. A Content-Security-Policy of `default-src 'none'` keeps the page from fetching
 * anything when it is opened. Pure apart from `loadChartLibrary`.
 */
import * as fs from "fs";
import * as path from "path";
import { formatDuration } from "../release/duration";
import { ReportData } from "./assemble";

/** The chart library's files, as inlined into a page. */
export interface ChartLibrary {
  name: string;
  version: string;
  script: string;
  style: string;
}

/** uPlot's minified IIFE build and stylesheet from node_modules (a dependency of the project). */
export function loadChartLibrary(): ChartLibrary {
  const pkg = require.resolve("uplot/package.json");
  const dist = path.join(path.dirname(pkg), "dist");
  const { version } = JSON.parse(fs.readFileSync(pkg, "utf8")) as { version: string };
  return {
    name: "uPlot",
    version,
    script: fs.readFileSync(path.join(dist, "uPlot.iife.min.js"), "utf8"),
    style: fs.readFileSync(path.join(dist, "uPlot.min.css"), "utf8"),
  };
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** JSON that cannot end the script element it sits in. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Inlined code: closing tags inside it would end its element early. */
function inlineCode(code: string, tag: "script" | "style"): string {
  return code.replace(new RegExp(`</${tag}`, "gi"), `<\\/${tag}`);
}

const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

/** Builds the charts from the JSON; every uPlot instance is kept in window.reportCharts. */
const CLIENT = `
(function () {
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var colours = { blue: "#1f6feb", green: "#1a7f37" };
  var markerColours = { start: "#57606a", step: "#57606a", pass: "#1a7f37", approved: "#1a7f37",
    promote: "#1a7f37", fail: "#cf222e", rollback: "#cf222e", aborted: "#cf222e",
    pause: "#9a6700", end: "#57606a" };
  var xs = data.intervals.map(function (i) { return i.start / 1000; });
  var names = [data.release.stableColor, data.release.canaryColor];
  var width = Math.min(1100, Math.max(480, document.body.clientWidth - 40));
  function col(name, f) { return data.intervals.map(function (i) { return f(i, name); }); }
  function pct(v) { return v === null ? null : v * 100; }
  function markers(u) {
    var ctx = u.ctx;
    ctx.save();
    data.markers.forEach(function (m) {
      var x = u.valToPos(m.at / 1000, "x", true);
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
      ctx.strokeStyle = markerColours[m.kind] || "#57606a";
      ctx.setLineDash(m.kind === "step" || m.kind === "start" ? [4, 4] : []);
      ctx.lineWidth = 1.5 * devicePixelRatio;
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
    });
    ctx.restore();
  }
  function chart(id, title, series, values, scale, yAxis) {
    var el = document.getElementById(id);
    var opts = {
      title: title, width: width, height: 190,
      scales: { x: { time: true }, y: scale || {} },
      axes: [{}, yAxis || { size: 60 }],
      series: [{ label: "time" }].concat(series),
      hooks: { draw: [markers] }
    };
    var u = new uPlot(opts, [xs].concat(values), el);
    window.reportCharts.push({ id: id, chart: u });
    return u;
  }
  // Evidence spans many powers of ten: drawn as its log10, on ticks at whole powers (1e12).
  var powersOfTen = {
    size: 60,
    incrs: [1, 2, 5, 10, 20, 50, 100],
    values: function (u, splits) {
      return splits.map(function (v) { return v >= -2 && v <= 3 ? String(Math.pow(10, v)) : "1e" + v; });
    }
  };
  function log10(v) { return v === null ? null : Math.log10(v); }
  window.reportCharts = [];
  var stepped = uPlot.paths.stepped({ align: 1 });
  chart("chart-weights", "weight per colour (%)", names.map(function (n) {
    return { label: n, stroke: colours[n], width: 2, paths: stepped };
  }), names.map(function (n) { return col(n, function (i, c) { return i.weights[c]; }); }),
    { range: [0, 100] });
  chart("chart-rps", "requests per second", names.map(function (n) {
    return { label: n, stroke: colours[n], width: 2 };
  }), names.map(function (n) { return col(n, function (i, c) { return i.requestsPerSecond[c]; }); }));
  chart("chart-5xx", "5xx rate (%): targets per colour, the load balancer's own", names.map(function (n) {
    return { label: n + " targets", stroke: colours[n], width: 2 };
  }).concat([{ label: "load balancer", stroke: "#cf222e", width: 2, dash: [6, 4] }]),
    names.map(function (n) { return col(n, function (i, c) { return pct(i.errorRate[c]); }); })
      .concat([data.intervals.map(function (i) { return pct(i.balancerErrorRate); })]));
  chart("chart-p99", "p99 latency (ms)", names.map(function (n) {
    return { label: n, stroke: colours[n], width: 2 };
  }), names.map(function (n) { return col(n, function (i, c) { return i.p99Ms[c]; }); }));
  if (data.evidence) {
    chart("chart-evidence", "judge: error-rate evidence against its threshold (log scale)", [
      { label: "evidence", stroke: "#8250df", width: 2 },
      { label: "fail threshold 1/alpha", stroke: "#cf222e", width: 1, dash: [6, 4] }
    ], [data.intervals.map(function (i) { return log10(i.evidence); }),
      data.intervals.map(function () { return log10(data.evidence.threshold); })],
      {}, powersOfTen);
  }
})();
`;

function headerRows(data: ReportData): [string, string][] {
  const r = data.release;
  const rows: [string, string][] = [
    [
      "version",
      `${r.version} on ${r.canaryColor} (stable ${r.stableColor} ran ${r.previousVersion})`,
    ],
    ["outcome", r.outcome],
    [
      "started",
      `${iso(r.startedAt)}, ${r.endedAt === null ? "running for" : "took"} ${formatDuration(r.durationMs)}`,
    ],
    [
      "steps",
      r.steps.map((s) => `${s.weight}% (bake ${formatDuration(s.bakeMs)})`).join(", ") || "none",
    ],
    ["gates", r.gates.join(", ")],
    [
      "metrics",
      `${data.metrics.source}, ${formatDuration(data.metrics.intervalMs)} intervals, ${iso(data.metrics.from)} to ${iso(data.metrics.to)}`,
    ],
  ];
  return rows;
}

/** The report as one HTML page that needs nothing else. */
export function renderHtml(data: ReportData, library: ChartLibrary): string {
  const r = data.release;
  const title = `${data.stack}: release ${r.version}, ${r.outcome}`;
  const rows = headerRows(data)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join("\n");
  const notes = data.metrics.notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join("\n");
  const markers = data.markers
    .map(
      (m) =>
        `<tr class="m-${m.kind}"><td>${escapeHtml(iso(m.at))}</td><td>${escapeHtml(m.kind)}</td><td>${escapeHtml(m.text)}</td></tr>`,
    )
    .join("\n");
  const status =
    r.status === "promoted" ? "good" : r.status === "running" || r.status === "paused" ? "" : "bad";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="ecs-canary report; charts by ${escapeHtml(library.name)} ${escapeHtml(library.version)} (MIT)">
<title>${escapeHtml(title)}</title>
<style>${inlineCode(library.style, "style")}</style>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 20px; color: #1f2328; }
h1 { font-size: 20px; margin: 0 0 8px; }
h1 .good { color: #1a7f37; } h1 .bad { color: #cf222e; }
table.head th { text-align: left; padding-right: 12px; color: #57606a; font-weight: normal; }
.decided { margin: 10px 0; padding: 8px 10px; background: #f6f8fa; border-left: 4px solid #57606a; font-family: ui-monospace, monospace; font-size: 12px; white-space: pre-wrap; word-break: break-word; }
.note { color: #9a6700; }
.chart { margin: 14px 0; }
table.markers { border-collapse: collapse; font-size: 12px; }
table.markers td { padding: 2px 8px; vertical-align: top; border-top: 1px solid #d0d7de; }
table.markers td:last-child { font-family: ui-monospace, monospace; word-break: break-word; }
.m-fail td:nth-child(2), .m-rollback td:nth-child(2), .m-aborted td:nth-child(2) { color: #cf222e; }
.m-pass td:nth-child(2), .m-promote td:nth-child(2), .m-approved td:nth-child(2) { color: #1a7f37; }
.m-pause td:nth-child(2) { color: #9a6700; }
</style>
</head>
<body>
<h1>${escapeHtml(data.stack)}: release ${escapeHtml(r.version)} <span class="${status}">${escapeHtml(r.outcome)}</span></h1>
<table class="head">
${rows}
</table>
<div class="decided" id="decided">${escapeHtml(r.decidingLine ?? "no decision yet")}</div>
${notes}
<div class="chart" id="chart-weights"></div>
<div class="chart" id="chart-rps"></div>
<div class="chart" id="chart-5xx"></div>
<div class="chart" id="chart-p99"></div>
${data.evidence ? '<div class="chart" id="chart-evidence"></div>' : ""}
<h2>Markers</h2>
<p>Lines on the charts: dashed for the release's start and each step's weight, solid for decisions (green pass, red fail or rollback, amber pause).</p>
<table class="markers">
${markers}
</table>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${inlineCode(library.script, "script")}</script>
<script>${CLIENT}</script>
</body>
</html>
`;
}
