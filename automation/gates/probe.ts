import { Gate, GateContext, GateResult } from "../release/ports";
import { GateDefinition, numberIn, wholeIn } from "./definition";

export interface ProbeSettings {
  requests: number;
  minSuccessRate: number;
  timeoutMs?: number;
}

/** Sends GET requests to the service URL and counts answers by version. */
export async function probeService(
  url: string,
  requests: number,
  timeoutMs: number,
): Promise<{ ok: number; failed: number; bodies: string[] }> {
  let ok = 0;
  let failed = 0;
  const bodies: string[] = [];
  for (let i = 0; i < requests; i++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
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
 */
export class ProbeGate implements Gate {
  readonly name = "probe";

  constructor(private readonly settings: ProbeSettings) {}

  async check({ outputs, release, step }: GateContext): Promise<GateResult> {
    const { requests, minSuccessRate } = this.settings;
    const { ok, failed, bodies } = await probeService(
      outputs.url,
      requests,
      this.settings.timeoutMs ?? 5000,
    );
    const successRate = ok / requests;
    const fromNew = bodies.filter((b) => answersWith(b, release.version)).length;
    const share = ok > 0 ? fromNew / ok : 0;
    const expected = step.weight / 100;
    const tolerance = ok > 0 ? 4 * Math.sqrt((expected * (1 - expected)) / ok) + 0.5 / ok : 1;
    const details = { requests, ok, failed, successRate, fromNew, share, expected, tolerance };
    const summary =
      `${ok}/${requests} ok (${pct(successRate)}, min ${pct(minSuccessRate)}), ` +
      `${pct(share)} from ${release.version} (expected ${pct(expected)})`;
    if (successRate < minSuccessRate)
      return { gate: this.name, verdict: "fail", reason: summary, details };
    if (Math.abs(share - expected) > tolerance || (expected > 0 && fromNew === 0)) {
      return {
        gate: this.name,
        verdict: "fail",
        reason: `${summary}: the new version's share does not match the weight`,
        details,
      };
    }
    return { gate: this.name, verdict: "pass", reason: summary, details };
  }
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
} as const;

export const probeDefinition: GateDefinition<"probe", typeof FLAGS, ProbeSettings> = {
  name: "probe",
  flags: FLAGS,
  settings(values) {
    const requests = wholeIn("probe", values.probe ?? FLAGS.probe.default, 0, 10_000);
    if (requests === 0) return undefined;
    const minSuccessRate = values.probeMinSuccess ?? FLAGS.probeMinSuccess.default;
    return { requests, minSuccessRate: numberIn("probeMinSuccess", minSuccessRate, 0, 1) };
  },
  build: (settings) => new ProbeGate(settings),
};
