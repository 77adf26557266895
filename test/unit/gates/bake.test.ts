import { expect } from "chai";
import { StackOutputs } from "../../../infra/contract/outputs";
import { BakeGate } from "../../../automation/gates/bake";
import { GateContext } from "../../../automation/release/ports";
import { Step } from "../../../automation/release/plan";
import { ReleaseState } from "../../../automation/release/state";

const MIN = 60_000;
const T0 = Date.UTC(2030, 0, 1, 10, 0, 0);

function context(step: Step, elapsedMs: number): GateContext {
  const release = { id: "r1", version: "1.0.1", steps: [step] } as ReleaseState;
  return {
    release,
    step,
    stepIndex: 0,
    outputs: {} as StackOutputs,
    now: T0 + elapsedMs,
    elapsedMs,
  };
}

describe("BakeGate", () => {
  const gate = new BakeGate();

  it("is named bake", () => {
    expect(gate.name).to.equal("bake");
  });

  it("holds the step while its bake time runs, saying how long is left", async () => {
    expect(await gate.check(context({ weight: 10, bakeMs: 5 * MIN }, 0))).to.deep.equal({
      gate: "bake",
      verdict: "inconclusive",
      reason: "baking: 5m left of 5m",
      details: { remainingMs: 5 * MIN },
    });
    expect(await gate.check(context({ weight: 10, bakeMs: 5 * MIN }, 150_000))).to.deep.equal({
      gate: "bake",
      verdict: "inconclusive",
      reason: "baking: 2m30s left of 5m",
      details: { remainingMs: 150_000 },
    });
    expect(await gate.check(context({ weight: 10, bakeMs: 5 * MIN }, 5 * MIN - 1))).to.deep.equal({
      gate: "bake",
      verdict: "inconclusive",
      reason: "baking: 1ms left of 5m",
      details: { remainingMs: 1 },
    });
  });

  it("passes once the bake time has run, exactly at it and after", async () => {
    for (const elapsed of [5 * MIN, 5 * MIN + 1, 60 * MIN]) {
      expect(await gate.check(context({ weight: 10, bakeMs: 5 * MIN }, elapsed))).to.deep.equal({
        gate: "bake",
        verdict: "pass",
        reason: "baked 5m",
      });
    }
  });

  it("passes at once a step without bake time", async () => {
    expect(await gate.check(context({ weight: 100, bakeMs: 0 }, 0))).to.deep.equal({
      gate: "bake",
      verdict: "pass",
      reason: "baked 0s",
    });
  });
});
