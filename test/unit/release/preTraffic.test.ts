import { expect } from "chai";
import { BakeGate } from "../../../automation/gates/bake";
import { EngineDeps, ReleaseEngine } from "../../../automation/release/engine";
import { parseSteps } from "../../../automation/release/plan";
import {
  Gate,
  GateContext,
  GateResult,
  GateVerdict,
  ReleaseEvent,
} from "../../../automation/release/ports";
import { newRelease } from "../../../automation/release/state";
import { releaseOf } from "../../../automation/stack/releaseTags";
import { describePlan } from "../../../automation/cli/text";
import { FakeClock } from "../../support/fakeClock";
import { MemoryStack } from "../../support/memoryStack";

const MIN = 60_000;

/** A gate that reaches the canary alone (as the probe through the header route), scripted. */
class CanaryOnlyGate implements Gate {
  readonly name = "probe";
  readonly preTraffic = true;
  readonly seen: { stepIndex: number; weight: number; deployedWeight: number }[] = [];
  constructor(
    private readonly verdict: (call: number) => GateVerdict,
    private readonly stack: MemoryStack,
  ) {}
  async check(ctx: GateContext): Promise<GateResult> {
    const deployedWeight = Number(this.stack.config.canaryWeight ?? "0");
    this.seen.push({ stepIndex: ctx.stepIndex, weight: ctx.step.weight, deployedWeight });
    const verdict = this.verdict(this.seen.length - 1);
    return { gate: this.name, verdict, reason: `20/20 ok with X-Canary: always (${verdict})` };
  }
}

function setup(
  verdict: (call: number) => GateVerdict,
  canaryOnly = true,
  settings: Record<string, string> = {},
) {
  const stack = new MemoryStack("dev", {
    blueVersion: "1.0.1",
    greenVersion: "1.0.0",
    ...settings,
  });
  const clock = new FakeClock();
  const gate = new CanaryOnlyGate(verdict, stack);
  const events: ReleaseEvent[] = [];
  const traffic = stack.ports({ clock, report: (e) => events.push(e) });
  const deps: EngineDeps = {
    traffic,
    releases: traffic,
    clock,
    gates: () => (canaryOnly ? [new BakeGate(), gate] : [new BakeGate()]),
    approver: { ask: async () => "unavailable" },
    report: (e) => events.push(e),
  };
  return { stack, gate, events, engine: new ReleaseEngine(deps) };
}

const request = {
  version: "1.0.2",
  steps: parseSteps("10,100", MIN),
  gates: { manual: false, maxInconclusiveMs: 5 * MIN, intervalMs: 30_000 },
  scaleDownDelayMs: MIN,
};

describe("pre-traffic check", () => {
  it("runs the canary-only gates once at weight 0, after the deploy and before step 1", async () => {
    const { stack, gate, engine } = setup(() => "pass");
    const outcome = await engine.rollout(request);
    expect(outcome.kind).to.equal("promoted");
    expect(gate.seen[0]).to.deep.equal({ stepIndex: -1, weight: 0, deployedWeight: 0 });
    expect(gate.seen.slice(1).every((s) => s.stepIndex >= 0)).to.equal(true);
    expect(stack.applied[0]).to.include({ canaryWeight: 0, canaryScale: 100 });
    const decision = releaseOf(stack.tags)?.decisions.find((d) => d.gate === "pre-traffic");
    expect(decision).to.include({ step: 0, weight: 0, verdict: "pass" });
    expect(decision?.reason).to.equal(
      "pre-traffic check at 0%: probe: 20/20 ok with X-Canary: always (pass)",
    );
  });

  for (const verdict of ["fail", "inconclusive"] as const) {
    it(`rolls back on ${verdict}, before any weight above 0 was ever applied`, async () => {
      const { stack, gate, engine } = setup(() => verdict);
      const outcome = await engine.rollout(request);
      expect(outcome.kind).to.equal("rolled-back");
      expect(gate.seen).to.have.length(1);
      expect(stack.applied.map((a) => a.canaryWeight)).to.deep.equal([0, 0]);
      expect(stack.config).to.include({ canaryWeight: "0", canaryScale: "0", stableColor: "blue" });
      expect(releaseOf(stack.tags)?.outcome).to.equal(
        `pre-traffic check at 0%: probe: 20/20 ok with X-Canary: always (${verdict})`,
      );
    });
  }

  it("runs nothing before step 1 when no gate can reach the canary alone", async () => {
    const { stack, engine } = setup(() => "pass", false);
    const outcome = await engine.rollout(request);
    expect(outcome.kind).to.equal("promoted");
    expect(releaseOf(stack.tags)?.decisions.some((d) => d.gate === "pre-traffic")).to.equal(false);
  });

  it("is in the plan when the probe sends a header, and only then", () => {
    const stable = { color: "blue" as const, version: "1.0.1" };
    const probe = { requests: 20, minSuccessRate: 0.99 };
    const header = { name: "X-Canary", value: "always" };
    const withHeader = newRelease(
      { ...request, gates: { ...request.gates, probe: { ...probe, header } } },
      stable,
      0,
    );
    expect(describePlan(withHeader)[1]).to.equal(
      "0. deploy 1.0.2 to the green task set at 0% (scale 100%) and wait until it is healthy, " +
        'then probe it through the header "X-Canary: always" before any user traffic ' +
        "(pre-traffic check; anything but a pass rolls back)",
    );
    const plain = newRelease({ ...request, gates: { ...request.gates, probe } }, stable, 0);
    expect(describePlan(plain)[1]).to.equal(
      "0. deploy 1.0.2 to the green task set at 0% (scale 100%) and wait until it is healthy",
    );
  });

  describe("refuses a probe header the stack's header route would not match, writing nothing", () => {
    const probeWith = (value: string) => ({
      ...request,
      gates: {
        ...request.gates,
        probe: { requests: 20, minSuccessRate: 0.99, header: { name: "X-Canary", value } },
      },
    });

    it("without canaryHeader on the stack", async () => {
      const { stack, engine } = setup(() => "pass");
      const before = { ...stack.config };
      let message = "";
      await engine.rollout(probeWith("always")).catch((err: Error) => (message = err.message));
      expect(message).to.equal(
        'invalid --probe-header "X-Canary: always": the stack\'s canaryHeader is empty, ' +
          "so the probe would not reach the canary; set canaryHeader to it first",
      );
      expect(stack.applied).to.deep.equal([]);
      expect(stack.config).to.deep.equal(before);
    });

    it("with another header on the stack, for plan too", async () => {
      const { stack, engine } = setup(() => "pass", true, { canaryHeader: "X-Canary: tester-?" });
      for (const run of [
        () => engine.plan(probeWith("tester-12")),
        () => engine.rollout(probeWith("tester-12")),
      ]) {
        let message = "";
        await run().catch((err: Error) => (message = err.message));
        expect(message).to.match(/the stack's canaryHeader is "X-Canary: tester-\?"/);
      }
      expect(stack.applied).to.deep.equal([]);
    });

    it("goes on when the stack's header matches what the probe sends (wildcards included)", async () => {
      const { engine } = setup(() => "pass", true, { canaryHeader: "x-canary: tester-*" });
      expect((await engine.rollout(probeWith("tester-1"))).kind).to.equal("promoted");
    });
  });
});
