import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { GateFlags, gateSettingsFrom } from "../../../automation/cli/gateFlags";
import { UsageError } from "../../../automation/release/errors";
import { GateSettings } from "../../../automation/release/state";

/** The metrics gate as no flag changes it (the first test pins its values). */
const METRICS_DEFAULTS = gateSettingsFrom({}).metrics;

const ALLOWED_KEYS =
  "manual, metrics, errorRatio, latencyRatio, minRequests, maxErrorRate, maxP99, failAfter, " +
  "probe, probeMinSuccess, probeHeader, webhook, webhookTimeout, maxInconclusive, onInconclusive, interval";

function usageError(flags: GateFlags): string {
  try {
    gateSettingsFrom(flags);
  } catch (err) {
    expect(err).to.be.instanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`gateSettingsFrom(${JSON.stringify(flags)}) did not throw`);
}

describe("gateSettingsFrom", () => {
  let dir: string;
  const gatesFile = (content: unknown, name = "gates.json"): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
    return file;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gate-flags-"));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe("defaults", () => {
    it("without flags: the judge with its defaults, no probe, no webhook, 10m and 15s", () => {
      const expected: GateSettings = {
        manual: false,
        metrics: {
          mode: "judge",
          allowedErrorRatio: 1,
          allowedLatencyRatio: 1.2,
          minRequests: 200,
          maxErrorRate: 0.01,
          failAfter: 3,
        },
        maxInconclusiveMs: 600_000,
        onInconclusive: "pause",
        intervalMs: 15_000,
      };
      expect(gateSettingsFrom({})).to.deep.equal(expected);
      expect(METRICS_DEFAULTS).to.deep.equal(expected.metrics);
    });

    it("ignores what yargs adds besides the gate flags", () => {
      const args = { _: [], $0: "ecs-canary", stack: "dev", "error-ratio": 2, errorRatio: 2 };
      expect(gateSettingsFrom(args as GateFlags).metrics?.allowedErrorRatio).to.equal(2);
    });
  });

  describe("flags", () => {
    it("sets every gate from its flag", () => {
      const settings = gateSettingsFrom({
        manual: true,
        metrics: "thresholds",
        errorRatio: 2,
        latencyRatio: 3,
        minRequests: 500,
        maxErrorRate: 0.05,
        maxP99: 250,
        failAfter: 2,
        probe: 20,
        probeMinSuccess: 0.9,
        webhook: "https://hooks.example.com/canary?team=a",
        webhookTimeout: "3s",
        maxInconclusive: "2m",
        onInconclusive: "rollback",
        interval: "5s",
      });
      expect(settings).to.deep.equal({
        manual: true,
        metrics: {
          mode: "thresholds",
          allowedErrorRatio: 2,
          allowedLatencyRatio: 3,
          minRequests: 500,
          maxErrorRate: 0.05,
          maxP99Ms: 250,
          failAfter: 2,
        },
        probe: { requests: 20, minSuccessRate: 0.9 },
        webhook: { url: "https://hooks.example.com/canary?team=a", timeoutMs: 3000 },
        maxInconclusiveMs: 120_000,
        onInconclusive: "rollback",
        intervalMs: 5000,
      });
    });

    it("--metrics off leaves the metrics gate out and does not check its limits", () => {
      const settings = gateSettingsFrom({ metrics: "off", errorRatio: 0.5 });
      expect(settings).to.deep.equal({
        manual: false,
        maxInconclusiveMs: 600_000,
        onInconclusive: "pause",
        intervalMs: 15_000,
      });
    });

    it("--latency-ratio 0 turns the latency test off", () => {
      expect(gateSettingsFrom({ latencyRatio: 0 }).metrics?.allowedLatencyRatio).to.equal(0);
    });

    it("--probe 0 is no probe; --probe-min-success defaults to 0.99", () => {
      expect(gateSettingsFrom({ probe: 0 })).to.not.have.property("probe");
      expect(gateSettingsFrom({ probe: 50 }).probe).to.deep.equal({
        requests: 50,
        minSuccessRate: 0.99,
      });
    });

    it("--probe-header keeps the header with the probe's settings", () => {
      expect(gateSettingsFrom({ probe: 20, probeHeader: "X-Canary: always" }).probe).to.deep.equal({
        requests: 20,
        minSuccessRate: 0.99,
        header: { name: "X-Canary", value: "always" },
      });
    });

    it("refuses --probe-header without --probe, or a header an ALB rule cannot match", () => {
      expect(usageError({ probeHeader: "X-Canary: always" })).to.equal(
        'invalid --probe-header "X-Canary: always": needs --probe N (requests per check)',
      );
      expect(usageError({ probe: 5, probeHeader: "X-Canary" })).to.match(
        /^invalid --probe-header "X-Canary": must be "Name: value"/,
      );
      expect(usageError({ probe: 5, probeHeader: "Host: a.example.com" })).to.match(
        /^invalid --probe-header "Host: a.example.com": must be "Name: value"/,
      );
    });

    it("--webhook-timeout defaults to 10s", () => {
      expect(gateSettingsFrom({ webhook: "http://127.0.0.1:9/hook" }).webhook).to.deep.equal({
        url: "http://127.0.0.1:9/hook",
        timeoutMs: 10_000,
      });
    });

    it("--interval accepts the gate loop's minimum, one second", () => {
      expect(gateSettingsFrom({ interval: "1s" }).intervalMs).to.equal(1000);
    });
  });

  describe("a gates file", () => {
    it("sets the gates by the flags' names", () => {
      const file = gatesFile({
        manual: true,
        metrics: "thresholds",
        maxErrorRate: 0.02,
        maxP99: 800,
        failAfter: 5,
        probe: 10,
        webhook: "http://127.0.0.1:8080/gate",
        webhookTimeout: "2s",
        maxInconclusive: "30m",
        interval: "30s",
      });
      expect(gateSettingsFrom({ gates: file })).to.deep.equal({
        manual: true,
        metrics: {
          mode: "thresholds",
          allowedErrorRatio: 1,
          allowedLatencyRatio: 1.2,
          minRequests: 200,
          maxErrorRate: 0.02,
          maxP99Ms: 800,
          failAfter: 5,
        },
        probe: { requests: 10, minSuccessRate: 0.99 },
        webhook: { url: "http://127.0.0.1:8080/gate", timeoutMs: 2000 },
        maxInconclusiveMs: 1_800_000,
        onInconclusive: "pause",
        intervalMs: 30_000,
      });
    });

    it("is overridden by flags, key by key", () => {
      const file = gatesFile({ metrics: "thresholds", errorRatio: 2, minRequests: 500, probe: 10 });
      const settings = gateSettingsFrom({
        gates: file,
        metrics: "judge",
        minRequests: 100,
        interval: "20s",
      });
      expect(settings.metrics).to.deep.equal({
        ...METRICS_DEFAULTS,
        mode: "judge",
        allowedErrorRatio: 2,
        minRequests: 100,
      });
      expect(settings.probe).to.deep.equal({ requests: 10, minSuccessRate: 0.99 });
      expect(settings.intervalMs).to.equal(20_000);
    });

    it("metrics off in the file is turned back on by --metrics", () => {
      const file = gatesFile({ metrics: "off" });
      expect(gateSettingsFrom({ gates: file })).to.not.have.property("metrics");
      expect(gateSettingsFrom({ gates: file, metrics: "judge" }).metrics).to.deep.equal(
        METRICS_DEFAULTS,
      );
    });

    it("an empty object changes nothing", () => {
      expect(gateSettingsFrom({ gates: gatesFile({}) })).to.deep.equal(gateSettingsFrom({}));
    });

    it("refuses an unknown key, naming it and the keys allowed", () => {
      const file = gatesFile({ errorRatio: 2, errRatio: 3 });
      expect(usageError({ gates: file })).to.equal(
        `invalid --gates "${file}": unknown key errRatio; allowed: ${ALLOWED_KEYS}`,
      );
    });

    it("refuses a gates key inside the file", () => {
      const file = gatesFile({ gates: "other.json" });
      expect(usageError({ gates: file })).to.equal(
        `invalid --gates "${file}": unknown key gates; allowed: ${ALLOWED_KEYS}`,
      );
    });

    it("refuses a missing file", () => {
      const file = path.join(dir, "missing.json");
      expect(usageError({ gates: file })).to.equal(
        `invalid --gates "${file}": ENOENT: no such file or directory, open '${file}'`,
      );
    });

    it("refuses a file that is not JSON, with the parser's message", () => {
      const text = '{ "errorRatio": }';
      let parserMessage = "";
      try {
        JSON.parse(text);
      } catch (err) {
        parserMessage = (err as Error).message;
      }
      const file = gatesFile(text);
      expect(usageError({ gates: file })).to.equal(`invalid --gates "${file}": ${parserMessage}`);
    });

    it("refuses JSON that is not an object", () => {
      for (const content of ["[1, 2]", "null", "42", '"judge"']) {
        const file = gatesFile(content);
        expect(usageError({ gates: file })).to.equal(`invalid --gates "${file}": not an object`);
      }
    });

    it("refuses a value of the wrong type, naming the key, the value and the type", () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ errorRatio: "2" }, 'errorRatio must be a number, got "2"'],
        [{ manual: "false" }, 'manual must be a boolean, got "false"'],
        [{ interval: 30 }, "interval must be a string, got 30"],
        [{ webhookTimeout: 5 }, "webhookTimeout must be a string, got 5"],
        [{ maxInconclusive: null }, "maxInconclusive must be a string, got null"],
        [{ probe: true }, "probe must be a number, got true"],
        [{ metrics: ["judge"] }, 'metrics must be a string, got ["judge"]'],
      ];
      for (const [content, message] of cases) {
        const file = gatesFile(content);
        expect(usageError({ gates: file })).to.equal(`invalid --gates "${file}": ${message}`);
      }
    });

    it("a value out of range in the file is refused like the flag's", () => {
      const file = gatesFile({ maxErrorRate: 2 });
      expect(usageError({ gates: file })).to.equal(
        "invalid --max-error-rate 2: must be a number from 0 to 1",
      );
    });
  });

  describe("bad values: one line naming the flag, the value and what is allowed", () => {
    const cases: [GateFlags, string][] = [
      [{ metrics: "kayenta" }, `invalid --metrics "kayenta": must be judge, thresholds or off`],
      [{ errorRatio: 0.5 }, "invalid --error-ratio 0.5: must be a number from 1 to 100"],
      [{ errorRatio: 101 }, "invalid --error-ratio 101: must be a number from 1 to 100"],
      [{ errorRatio: NaN }, "invalid --error-ratio NaN: must be a number from 1 to 100"],
      [{ latencyRatio: 0.9 }, "invalid --latency-ratio 0.9: must be a number from 1 to 100"],
      [{ minRequests: 0 }, "invalid --min-requests 0: must be a whole number from 1 to 1000000000"],
      [
        { minRequests: 500.4 },
        "invalid --min-requests 500.4: must be a whole number from 1 to 1000000000",
      ],
      [{ maxErrorRate: -0.1 }, "invalid --max-error-rate -0.1: must be a number from 0 to 1"],
      [{ maxErrorRate: 1.5 }, "invalid --max-error-rate 1.5: must be a number from 0 to 1"],
      [{ maxP99: 0 }, "invalid --max-p99 0: must be a number from 1 to 3600000"],
      [{ failAfter: 0 }, "invalid --fail-after 0: must be a whole number from 1 to 1000"],
      [{ failAfter: 2.5 }, "invalid --fail-after 2.5: must be a whole number from 1 to 1000"],
      [
        { failAfter: Infinity },
        "invalid --fail-after Infinity: must be a whole number from 1 to 1000",
      ],
      [{ probe: -1 }, "invalid --probe -1: must be a whole number from 0 to 10000"],
      [{ probe: 10_001 }, "invalid --probe 10001: must be a whole number from 0 to 10000"],
      // Rounded, this was 0: no probe at all, silently.
      [{ probe: 0.4 }, "invalid --probe 0.4: must be a whole number from 0 to 10000"],
      [
        { probe: 10, probeMinSuccess: 1.01 },
        "invalid --probe-min-success 1.01: must be a number from 0 to 1",
      ],
      [
        { webhook: "hooks.example.com" },
        `invalid --webhook "hooks.example.com": must be an http(s) URL`,
      ],
      [
        { webhook: "ftp://hooks.example.com/x" },
        `invalid --webhook "ftp://hooks.example.com/x": must be an http(s) URL`,
      ],
      [
        { webhook: "http://127.0.0.1:9/", webhookTimeout: "soon" },
        `invalid --webhook-timeout "soon": use a duration like 30s, 5m, 1h30m or a number of seconds`,
      ],
      [{ onInconclusive: "wait" }, `invalid --on-inconclusive "wait": must be pause or rollback`],
      [{ onInconclusive: "" }, `invalid --on-inconclusive "": must be pause or rollback`],
      [
        { maxInconclusive: "10 minutes" },
        `invalid --max-inconclusive "10 minutes": use a duration like 30s, 5m, 1h30m or a number of seconds`,
      ],
      [
        { webhook: "http://127.0.0.1:9/", webhookTimeout: "0s" },
        `invalid --webhook-timeout "0s": must be at least 1ms (a webhook given no time cannot answer)`,
      ],
      [
        { interval: "0s" },
        `invalid --interval "0s": must be at least 1s (the gates are checked at most once a second)`,
      ],
      [
        { interval: "200ms" },
        `invalid --interval "200ms": must be at least 1s (the gates are checked at most once a second)`,
      ],
      [
        { interval: "0.5" },
        `invalid --interval "0.5": must be at least 1s (the gates are checked at most once a second)`,
      ],
      [
        { interval: "-1s" },
        `invalid --interval "-1s": use a duration like 30s, 5m, 1h30m or a number of seconds`,
      ],
    ];
    for (const [flags, message] of cases) {
      it(message, () => {
        expect(usageError(flags)).to.equal(message);
      });
    }
  });
});
