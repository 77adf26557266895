import * as fs from "fs";
import { formatDuration, parseDuration } from "../release/duration";
import { UsageError } from "../release/errors";
import { GateSettings, MetricsGateSettings } from "../release/state";

/** The gate flags of `rollout` and `plan`, as yargs parses them. */
export interface GateFlags {
  gates?: string;
  manual?: boolean;
  metrics?: string;
  errorRatio?: number;
  latencyRatio?: number;
  minRequests?: number;
  maxErrorRate?: number;
  maxP99?: number;
  failAfter?: number;
  probe?: number;
  probeMinSuccess?: number;
  webhook?: string;
  webhookTimeout?: string;
  maxInconclusive?: string;
  interval?: string;
}

/** The gate loop checks a step at most once a second. */
export const MIN_INTERVAL_MS = 1000;

export const METRICS_DEFAULTS: MetricsGateSettings = {
  mode: "judge",
  allowedErrorRatio: 1,
  allowedLatencyRatio: 1.5,
  minRequests: 200,
  maxErrorRate: 0.01,
  failAfter: 3,
};

/** What a gates file may hold: the same settings as the flags, by the same names. */
type GatesFile = Partial<Omit<GateFlags, "gates">>;

function readGatesFile(file: string): GatesFile {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`invalid --gates "${file}": ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new Error("not an object");
    const allowed = new Map<string, "boolean" | "string" | "number">([
      ["manual", "boolean"],
      ["metrics", "string"],
      ["errorRatio", "number"],
      ["latencyRatio", "number"],
      ["minRequests", "number"],
      ["maxErrorRate", "number"],
      ["maxP99", "number"],
      ["failAfter", "number"],
      ["probe", "number"],
      ["probeMinSuccess", "number"],
      ["webhook", "string"],
      ["webhookTimeout", "string"],
      ["maxInconclusive", "string"],
      ["interval", "string"],
    ]);
    const unknown = Object.keys(parsed).filter((k) => !allowed.has(k));
    if (unknown.length > 0) {
      throw new Error(`unknown key ${unknown[0]}; allowed: ${[...allowed.keys()].join(", ")}`);
    }
    for (const [key, value] of Object.entries(parsed)) {
      const kind = allowed.get(key);
      if (typeof value !== kind)
        throw new Error(`${key} must be a ${kind}, got ${JSON.stringify(value)}`);
    }
    return parsed as GatesFile;
  } catch (err) {
    throw new UsageError(`invalid --gates "${file}": ${(err as Error).message}`);
  }
}

function range(
  flag: string,
  value: number | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(
      `invalid --${flag} ${String(value)}: must be a number from ${min} to ${max}`,
    );
  }
  return value;
}

/** A count: a whole number in range, never rounded. */
function whole(
  flag: string,
  value: number | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(
      `invalid --${flag} ${String(value)}: must be a whole number from ${min} to ${max}`,
    );
  }
  return value;
}

/** A duration flag with a lower bound: refused below it, never raised to it. */
function atLeast(flag: string, raw: string, minMs: number, why: string): number {
  const ms = parseDuration(`--${flag}`, raw);
  if (ms < minMs) {
    throw new UsageError(
      `invalid --${flag} "${raw}": must be at least ${formatDuration(minMs)} (${why})`,
    );
  }
  return ms;
}

/** Builds a release's gates from a gates file (if any) overridden by flags. */
export function gateSettingsFrom(flags: GateFlags): GateSettings {
  const f: GatesFile = { ...(flags.gates ? readGatesFile(flags.gates) : {}) };
  for (const [k, v] of Object.entries(flags))
    if (v !== undefined && k !== "gates") (f as Record<string, unknown>)[k] = v;

  const mode = f.metrics ?? "judge";
  if (mode !== "judge" && mode !== "thresholds" && mode !== "off") {
    throw new UsageError(`invalid --metrics "${mode}": must be judge, thresholds or off`);
  }
  const d = METRICS_DEFAULTS;
  const metrics: MetricsGateSettings | undefined =
    mode === "off"
      ? undefined
      : {
          mode,
          allowedErrorRatio: range("error-ratio", f.errorRatio, 1, 100, d.allowedErrorRatio),
          allowedLatencyRatio:
            f.latencyRatio === 0
              ? 0
              : range("latency-ratio", f.latencyRatio, 1, 100, d.allowedLatencyRatio),
          minRequests: whole("min-requests", f.minRequests, 1, 1e9, d.minRequests),
          maxErrorRate: range("max-error-rate", f.maxErrorRate, 0, 1, d.maxErrorRate),
          ...(f.maxP99 !== undefined
            ? { maxP99Ms: range("max-p99", f.maxP99, 1, 3_600_000, 0) }
            : {}),
          failAfter: whole("fail-after", f.failAfter, 1, 1000, d.failAfter),
        };
  const probeRequests = whole("probe", f.probe, 0, 10_000, 0);
  let webhook: GateSettings["webhook"];
  if (f.webhook !== undefined) {
    let url: URL;
    try {
      url = new URL(f.webhook);
    } catch {
      throw new UsageError(`invalid --webhook "${f.webhook}": must be an http(s) URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new UsageError(`invalid --webhook "${f.webhook}": must be an http(s) URL`);
    }
    webhook = {
      url: f.webhook,
      timeoutMs: atLeast(
        "webhook-timeout",
        f.webhookTimeout ?? "10s",
        1,
        "a webhook given no time cannot answer",
      ),
    };
  }
  return {
    manual: f.manual ?? false,
    ...(metrics ? { metrics } : {}),
    ...(probeRequests > 0
      ? {
          probe: {
            requests: probeRequests,
            minSuccessRate: range("probe-min-success", f.probeMinSuccess, 0, 1, 0.99),
          },
        }
      : {}),
    ...(webhook ? { webhook } : {}),
    maxInconclusiveMs: parseDuration("--max-inconclusive", f.maxInconclusive ?? "10m"),
    intervalMs: atLeast(
      "interval",
      f.interval ?? "15s",
      MIN_INTERVAL_MS,
      "the gates are checked at most once a second",
    ),
  };
}
