import { UsageError } from "./errors";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses "90s", "5m", "1h30m", "250ms" or a bare number of seconds into milliseconds. */
export function parseDuration(what: string, raw: string): number {
  const text = raw.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (text === "" || parts.map((p) => p[0]).join("") !== text) {
    throw new UsageError(
      `invalid ${what} "${raw}": use a duration like 30s, 5m, 1h30m or a number of seconds`,
    );
  }
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]], 0));
}

/** Formats milliseconds the way parseDuration reads them back, e.g. 5m, 1m30s, 250ms. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return "0s";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  seconds -= h * 3600;
  const m = Math.floor(seconds / 60);
  seconds -= m * 60;
  return [h ? `${h}h` : "", m ? `${m}m` : "", seconds ? `${seconds}s` : ""].join("") || "0s";
}
