import * as fs from "fs";
import * as path from "path";
import { formatDuration } from "../release/duration";
import { errorLine } from "../release/errors";
import { ReleaseState } from "../release/state";
import { ReportData } from "../report/assemble";
import { collectReport, keepForReport, ReportSources } from "../report/collect";
import { loadChartLibrary, renderHtml } from "../report/html";
import { PulumiStack } from "../stack/pulumiStack";
import { StackTraffic } from "../stack/stackTraffic";
import { EXIT } from "./exitCodes";

export interface ReportArgs {
  stack: string;
  release?: string;
  out?: string;
  json?: boolean;
}

/** Where a report is written when --out is not given: reports/ in the current folder. */
export function defaultReportPath(data: ReportData, json: boolean): string {
  const when = new Date(data.release.startedAt).toISOString().replace(/[:.]/g, "").slice(0, 17);
  const name = `${data.stack}-${data.release.version}-${when}.${json ? "json" : "html"}`;
  return path.join("reports", name.replace(/[^A-Za-z0-9._-]/g, "_"));
}

/** The command that writes a release's report, as a user would type it. */
export function reportCommand(stack: string, release?: ReleaseState): string {
  return `npx ecs-canary report --stack ${stack}${release ? ` --release ${release.id}` : ""}`;
}

/** The report's sources over a stack: its tags (the release's record, the archive) and its outputs. */
export function stackReportSources(stack: PulumiStack, traffic: StackTraffic): ReportSources {
  return {
    stack: stack.name,
    releases: traffic,
    archive: traffic,
    outputs: () => stack.outputs(),
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

/**
 * After a command on a release: keeps a finished one with its intervals for its report, and
 * says how to write the report. A failure to keep is said, and changes no exit code.
 */
export async function keepReleaseForReport(
  sources: ReportSources,
  release: ReleaseState | undefined,
  write: (line: string) => void,
): Promise<void> {
  if (release === undefined) return;
  try {
    await keepForReport(sources, release);
  } catch (err) {
    write(
      `could not keep the release's metrics for its report (${errorLine((err as Error).message)}); ` +
        `its report will read them from the metrics source while it still has them`,
    );
  }
  write(`report: ${reportCommand(sources.stack, release)}`);
}

/** `report`: one self-contained HTML page (or --json) of a release; reads only. */
export async function writeReport(args: ReportArgs): Promise<number> {
  const started = Date.now();
  const stack = await PulumiStack.open(args.stack);
  const traffic = new StackTraffic(stack, {
    clock: { now: Date.now, sleep: async () => {} },
    report: () => {},
  });
  const data = await collectReport(stackReportSources(stack, traffic), args.release);
  const json = args.json === true;
  const text = json ? `${JSON.stringify(data, null, 2)}\n` : renderHtml(data, loadChartLibrary());
  if (json && args.out === undefined) {
    process.stdout.write(text);
    return EXIT.ok;
  }
  const file = path.resolve(args.out ?? defaultReportPath(data, json));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  const kb = (Buffer.byteLength(text) / 1024).toFixed(0);
  process.stdout.write(
    `report of ${data.release.version} (${data.release.outcome}, ${data.intervals.length} intervals): ${file} (${kb} KB, made in ${formatDuration(Date.now() - started)})\n`,
  );
  return EXIT.ok;
}
