import { expect } from "chai";
import { StackOutputs } from "../../../infra/contract/outputs";
import { gateSettingsFrom } from "../../../automation/cli/gateFlags";
import { BakeGate } from "../../../automation/gates/bake";
import { flagName, helpText } from "../../../automation/gates/definition";
import { MetricsGate } from "../../../automation/gates/metrics";
import { ProbeGate } from "../../../automation/gates/probe";
import {
  GATE_FLAGS,
  GateFlagValues,
  gateSettingsFor,
  gatesFor,
} from "../../../automation/gates/registry";
import { WebhookGate } from "../../../automation/gates/webhook";

import { GateSettings, gateNames, ReleaseState } from "../../../automation/release/state";

/** A release as an earlier version stored it (JSON in the stack's `release` setting). */
const releaseOf = ({ release }: { release: string }) => JSON.parse(release) as ReleaseState;

const OUTPUTS = {
  platform: "local",
  url: "http://127.0.0.1:1/",
  metricsSource: {
    kind: "local",
    intervalSeconds: 10,
    settleSeconds: 0,
    adminUrl: "http://127.0.0.1:1",
    targetGroupArnSuffixes: { blue: "tg-blue", green: "tg-green" },
  },
} as StackOutputs;

/**
 * The `release` setting of a stack, byte for byte as the version before the gates registry wrote
 * it (its JSON of a ReleaseState with gateSettingsFrom(ITS_FLAGS), run at commit 1ebc9e4):
 * paused at step 2 with every gate on.
 */
const STORED_RELEASE =
  '{"id":"rel-1764158400000","version":"1.0.2","previousVersion":"1.0.1","stableColor":"blue",' +
  '"canaryColor":"green","steps":[{"weight":10,"bakeMs":60000},{"weight":50,"bakeMs":60000},' +
  '{"weight":100,"bakeMs":60000}],"gates":{"manual":true,"metrics":{"mode":"thresholds",' +
  '"allowedErrorRatio":2,"allowedLatencyRatio":0,"minRequests":500,"maxErrorRate":0.05,' +
  '"maxP99Ms":800,"failAfter":2},"probe":{"requests":20,"minSuccessRate":0.9},' +
  '"webhook":{"url":"http://127.0.0.1:9/hook","timeoutMs":3000},"maxInconclusiveMs":120000,' +
  '"intervalMs":5000},"stepIndex":1,"phase":"gating","status":"paused",' +
  '"stepStartedAt":1764158520000,"stepStarts":[1764158430000,1764158520000],"approvedSteps":[0],' +
  '"scaleDownDelayMs":60000,"keepCanary":false,"startedAt":1764158400000,' +
  '"updatedAt":1764158580000,"decisions":[]}';

/** The flags that release was started with. */
const ITS_FLAGS: GateFlagValues = {
  manual: true,
  metrics: "thresholds",
  errorRatio: 2,
  latencyRatio: 0,
  minRequests: 500,
  maxErrorRate: 0.05,
  maxP99: 800,
  failAfter: 2,
  probe: 20,
  probeMinSuccess: 0.9,
  webhook: "http://127.0.0.1:9/hook",
  webhookTimeout: "3s",
  maxInconclusive: "2m",
  interval: "5s",
};

describe("gates registry", () => {
  describe("a release stored before the registry", () => {
    it("decodes to the gate settings its flags give today, and encodes back byte for byte", () => {
      const release = releaseOf({ release: STORED_RELEASE })!;
      expect(release.gates).to.deep.equal(gateSettingsFor(ITS_FLAGS));
      expect(JSON.stringify(release)).to.equal(STORED_RELEASE);
    });

    it("resumes with the same gates, in the same order, judging alike", () => {
      const stored = gatesFor(releaseOf({ release: STORED_RELEASE })!.gates, OUTPUTS);
      expect(stored.map((g) => g.constructor)).to.deep.equal([
        BakeGate,
        MetricsGate,
        ProbeGate,
        WebhookGate,
      ]);
      expect(stored).to.deep.equal(gatesFor(gateSettingsFor(ITS_FLAGS), OUTPUTS));
      expect(gateNames(releaseOf({ release: STORED_RELEASE })!.gates)).to.deep.equal([
        "bake",
        "metrics",
        "probe",
        "webhook",
        "manual approval",
      ]);
    });
  });

  it("lists in the plan the gates it builds, then the person's approval", () => {
    const cases: GateFlagValues[] = [
      {},
      { metrics: "off" },
      { metrics: "off", manual: true },
      { probe: 5 },
      { webhook: "http://127.0.0.1:9/" },
      { metrics: "thresholds", probe: 5, webhook: "http://127.0.0.1:9/", manual: true },
    ];
    for (const flags of cases) {
      const settings: GateSettings = gateSettingsFor(flags);
      const built = gatesFor(settings, OUTPUTS).map((g) => g.name);
      expect(gateNames(settings), JSON.stringify(flags)).to.deep.equal([
        ...built,
        ...(flags.manual ? ["manual approval"] : []),
      ]);
      expect(built[0]).to.equal("bake");
    }
  });

  it("applies the defaults its help texts name", () => {
    const defaults: Record<string, unknown> = {};
    for (const [key, flag] of Object.entries(GATE_FLAGS)) {
      if (flag.default === undefined) continue;
      if (flag.describe.includes("{default}")) {
        expect(helpText(flag), key).to.contain(String(flag.default));
      }
      defaults[key] = flag.default;
    }
    expect(Object.keys(defaults)).to.include.members(["errorRatio", "interval", "probe"]);
    expect(gateSettingsFor(defaults as GateFlagValues)).to.deep.equal(gateSettingsFor({}));
    expect(gateSettingsFrom({})).to.deep.equal(gateSettingsFor({}));
  });

  it("names each flag after its gates-file key", () => {
    expect(Object.keys(GATE_FLAGS).map(flagName)).to.deep.equal([
      "manual",
      "metrics",
      "error-ratio",
      "latency-ratio",
      "min-requests",
      "max-error-rate",
      "max-p99",
      "fail-after",
      "probe",
      "probe-min-success",
      "webhook",
      "webhook-timeout",
      "max-inconclusive",
      "interval",
    ]);
  });
});
