import {
  CanaryHeader,
  formatCanaryHeader,
  parseCanaryHeader,
} from "../../infra/contract/canaryHeader";
import { UsageError } from "../release/errors";
import { Gate, GateContext, GateResult } from "../release/ports";
import { GateDefinition, numberIn, wholeIn } from "./definition";

export interface ProbeSettings {
  requests: number;
  minSuccessRate: number;
  timeoutMs?: number;
  /**
   * Sent with every request: the stack's header route (canaryHeader) sends it to the canary
   * only, so every answer must come from the new version, and the probe can run before users
   * get any of it (the pre-traffic check).
   */
  header?: CanaryHeader;
}

/** Sends GET requests to the service URL and counts answers by version. */
export async function probeService(
  url: string,
  requests: number,
  timeoutMs: number,
  header?: CanaryHeader,
): Promise<{ ok: number; failed: number; bodies: string[] }> {
  const headers: Record<string, string> = header ? { [header.name]: header.value } : {};
  let ok = 0;
  let failed = 0;
  const bodies: string[] = [];
  for (let i = 0; i < requests; i++) {
    try {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
      const body = await res.text();
      if (res.status < 500) {
        ok++;
        bodies.push(body);
      } else failed++;
    } catch {
      failed++;
    }
  }
  return { ok, failed, bodies };
}

/**
 * The service as a client sees it: the share of successful answers, and the
 * share answered by the new version, which must be plausible for the weight
 * (within 4 standard deviations of a binomial draw, and never none above 0 %).
 * With a header, the client is a tester the header route sends to the canary: every
 * answer must come from the new version, at any weight, 0 included.
 */
export class ProbeGate implements Gate {
  readonly name = "probe";
  readonly preTraffic: boolean;

  constructor(private readonly settings: ProbeSettings) {
    this.preTraffic = settings.header !== undefined;
  }

  async check({ outputs, release, step }: GateContext): Promise<GateResult> {
    const { requests, minSuccessRate, header } = this.settings;
    const { ok, failed, bodies } = await probeService(
      outputs.url,
      requests,
      this.settings.timeoutMs ?? 5000,
      header,
    );
    const successRate = ok / requests;
    const fromNew = bodies.filter((b) => answersWith(b, release.version)).length;
    const share = ok > 0 ? fromNew / ok : 0;
    const expected = header ? 1 : step.weight / 100;
    const tolerance = ok > 0 ? 4 * Math.sqrt((expected * (1 - expected)) / ok) + 0.5 / ok : 1;
    const details = { requests, ok, failed, successRate, fromNew, share, expected, tolerance };
    const via = header ? ` with ${formatCanaryHeader(header)}` : "";
    const summary =
      `${ok}/${requests} ok${via} (${pct(successRate)}, min ${pct(minSuccessRate)}), ` +
      `${pct(share)} from ${release.version} (expected ${pct(expected)})`;
    if (successRate < minSuccessRate)
      return { gate: this.name, verdict: "fail", reason: summary, details };
    if (Math.abs(share - expected) > tolerance || (expected > 0 && fromNew === 0)) {
      const why = header
        ? `the header did not reach only the new version (is the stack's canaryHeader "${formatCanaryHeader(header)}"?)`
        : "the new version's share does not match the weight";
      return { gate: this.name, verdict: "fail", reason: `${summary}: ${why}`, details };
    }
    return { gate: this.name, verdict: "pass", reason: summary, details };
  }
}

/** The header a release's probe sends (its pre-traffic check), from the settings it keeps. */
export function probeHeaderOf(gates: Record<string, unknown>): CanaryHeader | undefined {
  const probe = gates.probe as Partial<ProbeSettings> | undefined;
  return probe?.header;
}

/**
 * The sample service answers with its APPVERSION; a version matches as a whole word,
 * not as the start of a longer one (1.0.1 is not 1.0.10, 1.0.1-rc1 or 1.0.1+build).
 */
export function answersWith(body: string, version: string): boolean {
  const escaped = version.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^\\w.])${escaped}($|[^\\w.+-])`).test(body);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

const FLAGS = {
  probe: {
    type: "number",
    default: 0,
    describe: "HTTP probe: requests to the service URL per check ({default} = off)",
  },
  probeMinSuccess: {
    type: "number",
    default: 0.99,
    describe: "HTTP probe: minimum success rate, 0-1 (default {default})",
  },
  probeHeader: {
    type: "string",
    describe:
      'HTTP probe: send this header ("Name: value", the stack\'s canaryHeader) so that the canary alone answers; the release then probes the new version at 0 % before any user traffic moves (pre-traffic check), and every answer must come from it',
  },
} as const;

export const probeDefinition: GateDefinition<"probe", typeof FLAGS, ProbeSettings> = {
  name: "probe",
  flags: FLAGS,
  settings(values) {
    const requests = wholeIn("probe", values.probe ?? FLAGS.probe.default, 0, 10_000);
    const rawHeader = values.probeHeader ?? "";
    const header = parseCanaryHeader(
      rawHeader,
      (allowed) =>
        new UsageError(`invalid --probe-header ${JSON.stringify(rawHeader)}: ${allowed}`),
    );
    if (requests === 0) {
      if (header) {
        throw new UsageError(
          `invalid --probe-header ${JSON.stringify(rawHeader)}: needs --probe N (requests per check)`,
        );
      }
      return undefined;
    }
    const minSuccessRate = values.probeMinSuccess ?? FLAGS.probeMinSuccess.default;
    return {
      requests,
      minSuccessRate: numberIn("probeMinSuccess", minSuccessRate, 0, 1),
      ...(header && { header }),
    };
  },
  build: (settings) => new ProbeGate(settings),
};
