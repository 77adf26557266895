import { UsageError } from "../release/errors";
import { Gate, GateContext, GateResult } from "../release/ports";
import { durationAtLeast, GateDefinition } from "./definition";

export interface WebhookSettings {
  url: string;
  timeoutMs: number;
}

/** POSTs the release's state as JSON; a 2xx answer passes, another status fails. */
export class WebhookGate implements Gate {
  readonly name = "webhook";

  constructor(private readonly settings: WebhookSettings) {}

  async check({ release, step, stepIndex, outputs, elapsedMs }: GateContext): Promise<GateResult> {
    const payload = {
      release: {
        id: release.id,
        version: release.version,
        previousVersion: release.previousVersion,
        canaryColor: release.canaryColor,
        stableColor: release.stableColor,
        status: release.status,
      },
      step: {
        index: stepIndex + 1,
        of: release.steps.length,
        weight: step.weight,
        bakeMs: step.bakeMs,
        elapsedMs,
      },
      outputs: { url: outputs.url, weights: outputs.weights, platform: outputs.platform },
    };
    try {
      const res = await fetch(this.settings.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      const text = (await res.text()).trim().slice(0, 200);
      const reason = `POST ${this.settings.url} answered ${res.status}${text ? `: ${text}` : ""}`;
      return {
        gate: this.name,
        verdict: res.ok ? "pass" : "fail",
        reason,
        details: { status: res.status },
      };
    } catch (err) {
      // No answer is no decision either way: hold (and roll back if it stays so).
      return {
        gate: this.name,
        verdict: "inconclusive",
        reason: `POST ${this.settings.url} failed: ${(err as Error).message}`,
      };
    }
  }
}

const FLAGS = {
  webhook: { type: "string", describe: "Webhook gate: POST the release state here; 2xx passes" },
  webhookTimeout: {
    type: "string",
    default: "10s",
    describe: "Webhook gate: timeout (default {default})",
  },
} as const;

function httpUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`invalid --webhook "${raw}": must be an http(s) URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`invalid --webhook "${raw}": must be an http(s) URL`);
  }
  return raw;
}

export const webhookDefinition: GateDefinition<"webhook", typeof FLAGS, WebhookSettings> = {
  name: "webhook",
  flags: FLAGS,
  settings(values) {
    if (values.webhook === undefined) return undefined;
    return {
      url: httpUrl(values.webhook),
      timeoutMs: durationAtLeast(
        "webhookTimeout",
        values.webhookTimeout ?? FLAGS.webhookTimeout.default,
        1,
        "a webhook given no time cannot answer",
      ),
    };
  },
  build: (settings) => new WebhookGate(settings),
};
