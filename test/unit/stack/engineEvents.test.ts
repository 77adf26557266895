import { expect } from "chai";
import { updateReport } from "../../../automation/stack/engineEvents";

const STACK_URN = "urn:pulumi:s::ecs-canary::pulumi:pulumi:Stack::ecs-canary-s";

/** Lines as the CLI writes them with --event-log (fields the reader ignores trimmed). */
function outputsEvent(type: string, outputs: Record<string, unknown>, sequence: number): string {
  return JSON.stringify({
    sequence,
    timestamp: 1795716869,
    resOutputsEvent: {
      metadata: { op: "same", urn: STACK_URN, type, old: {}, new: { type, outputs } },
    },
  });
}

const SUMMARY = JSON.stringify({
  sequence: 54,
  timestamp: 1795716869,
  summaryEvent: {
    maybeCorrupt: false,
    durationSeconds: 3,
    resourceChanges: { same: 4, update: 1 },
    PolicyPacks: {},
    isPreview: false,
    result: "succeeded",
  },
});

describe("an update's report from its engine events", () => {
  it("takes the stack's outputs from the root resource's outputs event, and the summary", () => {
    const log = [
      JSON.stringify({ sequence: 1, timestamp: 1, preludeEvent: { config: {} } }),
      outputsEvent("pulumi-nodejs:dynamic/local:LoadBalancer", { url: "lb" }, 44),
      outputsEvent("pulumi:pulumi:Stack", { url: "http://127.0.0.1:1", weights: { blue: 66 } }, 53),
      SUMMARY,
      JSON.stringify({ sequence: 55, timestamp: 1795716869, cancelEvent: {} }),
      "",
    ].join("\n");
    const report = updateReport(log);
    expect(report.outputs).to.deep.equal({ url: "http://127.0.0.1:1", weights: { blue: 66 } });
    expect(report.summary).to.include({ result: "succeeded", durationSeconds: 3 });
    expect(report.summary?.resourceChanges).to.deep.equal({ same: 4, update: 1 });
  });

  it("has no outputs when the events mask one (a secret) or never name the stack's", () => {
    const masked = outputsEvent("pulumi:pulumi:Stack", { token: "[secret]", url: "u" }, 53);
    expect(updateReport(`${masked}\n${SUMMARY}\n`).outputs).to.equal(undefined);
    expect(updateReport(`${SUMMARY}\n`).outputs).to.equal(undefined);
  });

  it("skips a last line cut short by a killed CLI", () => {
    const log = `${outputsEvent("pulumi:pulumi:Stack", { a: 1 }, 53)}\n{"sequence":54,"summ`;
    expect(updateReport(log)).to.deep.equal({ outputs: { a: 1 } });
  });
});
