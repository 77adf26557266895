import { expect } from "chai";
import { BakeGate } from "../../../automation/gates/bake";
import {
  Approver,
  Gate,
  GateContext,
  GateResult,
  GateVerdict,
  Outcome,
  ReleaseEvent,
} from "../../../automation/release/ports";
import { EngineDeps, ReleaseEngine } from "../../../automation/release/engine";
import {
  InfrastructureError,
  ReleaseInProgressError,
  UsageError,
} from "../../../automation/release/errors";
import { parseSteps } from "../../../automation/release/plan";
import { GateSettings, ReleaseRequest } from "../../../automation/release/state";
import { releaseOf } from "../../../automation/stack/releaseTags";
import { describePlan, errorMessage, outcomeMessage } from "../../../automation/cli/text";
import { exitCodeFor } from "../../../automation/cli/exitCodes";
import { FakeClock } from "../../support/fakeClock";
import { MemoryStack } from "../../support/memoryStack";

const MIN = 60_000;

/** A metrics gate whose verdicts are scripted per step (index) and call. */
class ScriptedGate implements Gate {
  readonly name = "metrics";
  calls: { step: number; elapsedMs: number; memory?: unknown }[] = [];
  /** With a pass: what the gate keeps in the release (none unless set). */
  keep?: (step: number) => unknown;
  /** With an inconclusive verdict: short of data (none unless set). */
  shortOfData?: GateResult["shortOfData"];
  /** With an inconclusive verdict: undecided by its evidence (none unless set). */
  undecided?: GateResult["undecided"];
  constructor(private readonly script: (step: number, call: number) => GateVerdict) {}
  async check(ctx: GateContext): Promise<GateResult> {
    const call = this.calls.filter((c) => c.step === ctx.stepIndex).length;
    this.calls.push({
      step: ctx.stepIndex,
      elapsedMs: ctx.elapsedMs,
      memory: ctx.release.gateMemory?.metrics,
    });
    const verdict = this.script(ctx.stepIndex, call);
    return {
      gate: this.name,
      verdict,
      reason: `scripted ${verdict} (errors 12/600 vs 6/5400)`,
      ...(verdict === "pass" && this.keep ? { keep: this.keep(ctx.stepIndex) } : {}),
      ...(verdict === "inconclusive" && this.shortOfData ? { shortOfData: this.shortOfData } : {}),
      ...(verdict === "inconclusive" && this.undecided ? { undecided: this.undecided } : {}),
    };
  }
}

class ScriptedApprover implements Approver {
  asked = 0;
  constructor(private readonly answers: ("approved" | "rejected" | "unavailable")[]) {}
  async ask() {
    return this.answers[Math.min(this.asked++, this.answers.length - 1)];
  }
}

const gates = (overrides: Partial<GateSettings> = {}): GateSettings => ({
  manual: false,
  maxInconclusiveMs: 5 * MIN,
  intervalMs: 30_000,
  ...overrides,
});

const request = (overrides: Partial<ReleaseRequest> = {}): ReleaseRequest => ({
  version: "1.0.2",
  steps: parseSteps("10,50,100", MIN),
  gates: gates(),
  scaleDownDelayMs: 2 * MIN,
  ...overrides,
});

function setup(
  opts: {
    metrics?: (step: number, call: number) => GateVerdict;
    approver?: ScriptedApprover;
    stack?: MemoryStack;
    clock?: FakeClock;
    signal?: AbortSignal;
  } = {},
) {
  const stack = opts.stack ?? devStack();
  const clock = opts.clock ?? new FakeClock();
  const metrics = new ScriptedGate(opts.metrics ?? (() => "pass"));
  const events: ReleaseEvent[] = [];
  // Updates are reported by the traffic port: through deps.report, so a test can swap it.
  const traffic = stack.ports({ clock, report: (e) => deps.report(e) });
  const deps: EngineDeps = {
    traffic,
    releases: traffic,
    clock,
    gates: () => [new BakeGate(), metrics],
    approver: opts.approver ?? new ScriptedApprover(["unavailable"]),
    report: (e) => events.push(e),
    signal: opts.signal,
  };
  return { stack, clock, metrics, events, engine: new ReleaseEngine(deps), deps };
}

/** The stack most tests start from: blue stable on 1.0.1, green on 1.0.0. */
const devStack = () => new MemoryStack("dev", { blueVersion: "1.0.1", greenVersion: "1.0.0" });

const release = (stack: MemoryStack) => releaseOf(stack.tags);

/** What the CLI says about an outcome on the tests' stack. */
const message = (outcome: Outcome) => outcomeMessage(outcome, "dev");

/** What the metrics gate says of a step short of data, and of one undecided. */
const SHORT = {
  reason:
    "the canary served 40 requests in 360s of settled intervals at 10% (0.11 req/s); a step needs 200",
  remedies: ["give it more time", "send traffic", "ask for less"],
};

const UNDECIDED = {
  reason:
    "the error-rate evidence 4.2 is above the pass level 1 and below 1/alpha = 33.3 " +
    "(canary 70/5000 5xx vs stable 450/45000 so far): the data lean towards a " +
    "regression without showing one",
  remedies: ["give it more time", "send traffic"],
};

describe("release engine", () => {
  it("walks 10/50/100, promotes, then scales the old stable down after the delay", async () => {
    const { stack, engine, clock, metrics } = setup();
    const start = clock.now();
    const outcome = await engine.rollout(request());

    expect(outcome.kind).to.equal("promoted");
    expect(stack.weights()).to.deep.equal([
      "blue:0",
      "blue:10",
      "blue:50",
      "blue:100",
      "green:0",
      "green:0",
    ]);
    expect(stack.applied.map((a) => a.canaryScale)).to.deep.equal([100, 100, 100, 100, 100, 0]);
    expect(
      stack.applied.every((a) => a.greenVersion === "1.0.2" && a.blueVersion === "1.0.1"),
    ).to.equal(true);
    expect(stack.config).to.include({
      stableColor: "green",
      canaryWeight: "0",
      canaryScale: "0",
      greenVersion: "1.0.2",
    });
    const state = release(stack)!;
    expect(state).to.include({
      status: "promoted",
      phase: "done",
      previousVersion: "1.0.1",
      canaryColor: "green",
    });
    // Each step's pass is a decision (the report marks it), then the promotion.
    expect(state.decisions.map((d) => [d.step, d.weight, d.gate, d.verdict])).to.deep.equal([
      [1, 10, "gates", "pass"],
      [2, 50, "gates", "pass"],
      [3, 100, "gates", "pass"],
      [3, 100, "promote", "pass"],
    ]);
    expect(state.decisions[0].reason).to.match(/^bake: .*; metrics: /);
    // Each step baked a minute in 30 s polls; then 2 min before the scale-down.
    expect(clock.now() - start).to.equal(3 * MIN + 2 * MIN);
    expect(metrics.calls.map((c) => [c.step, c.elapsedMs])).to.deep.equal([
      [0, 0],
      [0, 30_000],
      [0, 60_000],
      [1, 0],
      [1, 30_000],
      [1, 60_000],
      [2, 0],
      [2, 30_000],
      [2, 60_000],
    ]);
  });

  it("rolls back to 0 when a gate fails, with the gate's numbers", async () => {
    const { stack, engine } = setup({
      metrics: (step, call) => (step === 1 && call === 1 ? "fail" : "pass"),
    });
    const outcome = await engine.rollout(request());
    expect(outcome.kind).to.equal("rolled-back");
    expect(stack.weights()).to.deep.equal(["blue:0", "blue:10", "blue:50", "blue:0"]);
    expect(message(outcome)).to.contain("metrics: scripted fail (errors 12/600 vs 6/5400)");
    expect(release(stack)).to.include({ status: "rolled-back", phase: "done" });
    expect(stack.config).to.include({ stableColor: "blue", canaryWeight: "0" });
  });

  it("holds while inconclusive and never promotes on no data", async () => {
    const { stack, engine, clock } = setup({ metrics: () => "inconclusive" });
    const start = clock.now();
    const outcome = await engine.rollout(request());
    expect(outcome.kind).to.equal("rolled-back");
    expect(message(outcome)).to.match(
      /inconclusive for 6m \(bake 1m \+ 5m allowed\): metrics: scripted inconclusive/,
    );
    expect(stack.weights()).to.deep.equal(["blue:0", "blue:10", "blue:0"]);
    expect(clock.now() - start).to.equal(6 * MIN);
  });

  it("goes on once an inconclusive gate passes", async () => {
    const { stack, engine, metrics } = setup({
      metrics: (step, call) => (step === 0 && call < 5 ? "inconclusive" : "pass"),
    });
    expect((await engine.rollout(request())).kind).to.equal("promoted");
    expect(metrics.calls.filter((c) => c.step === 0).map((c) => c.elapsedMs)).to.deep.equal([
      0, 30_000, 60_000, 90_000, 120_000, 150_000,
    ]);
    expect(stack.weights()).to.deep.equal([
      "blue:0",
      "blue:10",
      "blue:50",
      "blue:100",
      "green:0",
      "green:0",
    ]);
  });

  it("pauses for approval without a terminal, and promote goes on from the paused step", async () => {
    const stack = devStack();
    const first = setup({ stack });
    const paused = await first.engine.rollout(request({ gates: gates({ manual: true }) }));
    expect(paused.kind).to.equal("paused");
    expect(message(paused)).to.contain("npx ecs-canary promote --stack dev");
    expect(stack.weights()).to.deep.equal(["blue:0", "blue:10"]);
    expect(release(stack)).to.include({ status: "paused", stepIndex: 0 });

    const again = await setup({ stack }).engine.promote(false);
    expect(again.kind).to.equal("paused");
    expect(release(stack)).to.include({ status: "paused", stepIndex: 1 });
    expect(release(stack)!.approvedSteps).to.deep.equal([0]);
    await setup({ stack }).engine.promote(false);
    const done = await setup({ stack }).engine.promote(false);
    expect(done.kind).to.equal("promoted");
    expect(stack.weights()).to.deep.equal([
      "blue:0",
      "blue:10",
      "blue:50",
      "blue:100",
      "green:0",
      "green:0",
    ]);
  });

  it("asks at the prompt on a terminal; a rejection rolls back", async () => {
    const approver = new ScriptedApprover(["approved", "rejected"]);
    const { stack, engine } = setup({ approver });
    const outcome = await engine.rollout(request({ gates: gates({ manual: true }) }));
    expect(outcome.kind).to.equal("rolled-back");
    expect(message(outcome)).to.contain("manual: rejected at the prompt");
    expect(approver.asked).to.equal(2);
    expect(stack.weights()).to.deep.equal(["blue:0", "blue:10", "blue:50", "blue:0"]);
  });

  it("promote --now skips the remaining steps", async () => {
    const stack = devStack();
    await setup({ stack }).engine.rollout(request({ gates: gates({ manual: true }) }));
    const outcome = await setup({ stack }).engine.promote(true);
    expect(outcome.kind).to.equal("promoted");
    expect(stack.weights()).to.deep.equal(["blue:0", "blue:10", "green:0", "green:0"]);
  });

  it("abort of a paused release sends all traffic back to stable", async () => {
    const stack = devStack();
    await setup({ stack }).engine.rollout(request({ gates: gates({ manual: true }) }));
    const outcome = await setup({ stack }).engine.abort();
    expect(outcome.kind).to.equal("aborted");
    expect(stack.weights()).to.deep.equal(["blue:0", "blue:10", "blue:0"]);
    expect(release(stack)).to.include({ status: "aborted", phase: "done" });
    const again = setup({ stack });
    await expectRejection(again.engine.promote(false), UsageError, /no release is in progress/);
  });

  it("abort right after a promotion swaps back to the old stable, still running", async () => {
    const stack = devStack();
    const controller = new AbortController();
    const clock = new FakeClock();
    const first = setup({ stack, clock, signal: controller.signal });
    // Ctrl-C while waiting to scale down: the release stays promoted, blue still runs.
    first.deps.report = (e) => {
      if (e.type === "decision" && e.decision.gate === "promote") controller.abort();
    };
    const promoted = await first.engine.rollout(request());
    expect(promoted.kind).to.equal("promoted");
    expect(message(promoted)).to.contain("still runs for an instant abort");
    const outcome = await setup({ stack }).engine.abort();
    expect(outcome.kind).to.equal("aborted");
    expect(stack.weights()).to.deep.equal([
      "blue:0",
      "blue:10",
      "blue:50",
      "blue:100",
      "green:0",
      "blue:0",
    ]);
    // Blue still ran: no scale-up first; green (the undone version) goes to 0 in the same update.
    expect(stack.applied.at(-1)).to.include({ canaryScale: 0, blueVersion: "1.0.1" });
    expect(stack.last?.blue.scale).to.equal(100);
    expect(message(outcome)).to.equal(
      "promotion of 1.0.2 undone: blue serves 1.0.1 at 100%; green (1.0.2) scaled to 0",
    );
  });

  it("rolls back when an update fails", async () => {
    const stack = devStack();
    stack.failUpdates.add(3);
    const outcome = await setup({ stack }).engine.rollout(request());
    expect(outcome.kind).to.equal("rolled-back");
    expect(message(outcome)).to.contain("update failed (step 2/3: 50% to 1.0.2): update 3 failed");
    expect(stack.weights()).to.deep.equal(["blue:0", "blue:10", "blue:0"]);
  });

  it("rolls back when the load balancer reports other weights than asked", async () => {
    const stack = devStack();
    stack.misapplyUpdates.add(2);
    const outcome = await setup({ stack }).engine.rollout(request());
    expect(outcome.kind).to.equal("rolled-back");
    expect(message(outcome)).to.contain(
      "weight mismatch after update (step 1/3: 10% to 1.0.2): asked blue 90% / green 10%, the load balancer reports blue 90% / green 5%",
    );
    expect(stack.weights()).to.deep.equal(["blue:0", "blue:10", "blue:0"]);
  });

  it("rolls back a failed promotion to the old stable colour", async () => {
    const stack = devStack();
    stack.failUpdates.add(5);
    const outcome = await setup({ stack }).engine.rollout(request());
    expect(outcome.kind).to.equal("rolled-back");
    expect(message(outcome)).to.contain("promotion failed");
    expect(stack.weights()).to.deep.equal(["blue:0", "blue:10", "blue:50", "blue:100", "blue:0"]);
    expect(stack.config).to.include({ stableColor: "blue", canaryWeight: "0" });
  });

  it("does not roll back an update that Ctrl-C cancelled; a rerun continues", async () => {
    const stack = devStack();
    const controller = new AbortController();
    const ctx = setup({ stack, signal: controller.signal });
    ctx.deps.report = (e) => {
      if (e.type === "update-started" && e.purpose.startsWith("step 2/")) {
        controller.abort();
        stack.failUpdates.add(3);
      }
    };
    const outcome = await ctx.engine.rollout(request());
    expect(outcome.kind).to.equal("interrupted");
    expect(stack.weights()).to.deep.equal(["blue:0", "blue:10"]);
    expect(release(stack)).to.include({ status: "running", phase: "shifting", stepIndex: 1 });
    const resumed = await setup({ stack }).engine.rollout(request());
    expect(resumed.kind).to.equal("promoted");
    expect(stack.weights()).to.deep.equal([
      "blue:0",
      "blue:10",
      "blue:50",
      "blue:100",
      "green:0",
      "green:0",
    ]);
  });

  it("stops cleanly on Ctrl-C and says how to go on", async () => {
    const controller = new AbortController();
    const ctx = setup({
      signal: controller.signal,
      metrics: (step) => (step === 1 ? "inconclusive" : "pass"),
    });
    ctx.deps.report = (e) => {
      if (e.type === "gates" && e.release.stepIndex === 1) controller.abort();
    };
    const outcome = await ctx.engine.rollout(request());
    expect(outcome.kind).to.equal("interrupted");
    expect(message(outcome)).to.contain("npx ecs-canary rollout --stack dev --version 1.0.2");
    expect(message(outcome)).to.contain("npx ecs-canary abort --stack dev");
    expect(ctx.stack.weights()).to.deep.equal(["blue:0", "blue:10", "blue:50"]);
    const resumed = await setup({ stack: ctx.stack }).engine.rollout(request());
    expect(resumed.kind).to.equal("promoted");
    expect(ctx.stack.weights()).to.deep.equal([
      "blue:0",
      "blue:10",
      "blue:50",
      "blue:100",
      "green:0",
      "green:0",
    ]);
  });

  describe("resume after a crash", () => {
    const undisturbed = devStack();
    before(async () => {
      await setup({ stack: undisturbed }).engine.rollout(request());
    });

    it("finishes from any point without repeating a finished step", async function () {
      // Every operation is a crash point, each tag of a record write too.
      this.timeout(30_000);
      const steps = ["blue:10", "blue:50", "blue:100"];
      expect(undisturbed.operations).to.be.greaterThan(20);
      for (let crashAt = 1; crashAt <= undisturbed.operations; crashAt++) {
        const stack = devStack();
        stack.crashAt = crashAt;
        const clock = new FakeClock();
        // The process dies: whatever it was doing fails, and nothing after it happens.
        await expectRejection(setup({ stack, clock }).engine.rollout(request()), Error, /crash at/);
        const atCrash = release(stack);
        const appliedBefore = stack.applied.length;
        stack.crashAt = undefined;

        const resumed = setup({ stack, clock });
        const outcome = await resumed.engine.rollout(request());
        expect(outcome.kind, `crash at ${crashAt}`).to.equal("promoted");

        // Steps whose gates had passed are not shifted or judged again.
        let next = 0;
        if (atCrash?.phase === "gating") next = atCrash.stepIndex + 1;
        else if (atCrash?.phase === "shifting") next = atCrash.stepIndex;
        else if (atCrash && atCrash.phase !== "deploying") next = steps.length;
        const shiftedAfter = stack
          .weights()
          .slice(appliedBefore)
          .filter((w) => steps.includes(w));
        expect(shiftedAfter, `crash at ${crashAt} in ${atCrash?.phase}`).to.deep.equal(
          steps.slice(next),
        );
        const judged = resumed.metrics.calls.map((c) => c.step);
        const firstJudged = atCrash?.phase === "gating" ? atCrash.stepIndex : next;
        expect(
          judged.every((step) => step >= firstJudged),
          `crash at ${crashAt}`,
        ).to.equal(true);
        expect(stack.config).to.include({ stableColor: "green", canaryScale: "0" });
      }
    });
  });

  describe("refusals", () => {
    it("refuses a second release of another version while one is in progress", async () => {
      const stack = devStack();
      await setup({ stack }).engine.rollout(request({ gates: gates({ manual: true }) }));
      const before = { ...stack.config };
      await expectRejection(
        setup({ stack }).engine.rollout(request({ version: "2.0.0" })),
        ReleaseInProgressError,
        /a release of 1.0.2 is in progress on stack dev \(paused, step 1 of 3\)/,
      );
      expect(stack.config).to.deep.equal(before);
    });

    it("refuses to release the version already stable, changing nothing", async () => {
      const { stack, engine } = setup();
      await expectRejection(
        engine.rollout(request({ version: "1.0.1" })),
        UsageError,
        /1.0.1 is already the stable version on blue/,
      );
      expect(stack.applied).to.deep.equal([]);
      expect(release(stack)).to.equal(undefined);
    });

    it("refuses set-weight outside 0..100 and during a release", async () => {
      const { stack, engine } = setup();
      await expectRejection(
        engine.setWeight("101"),
        Error,
        /invalid setting weight="101": must be an integer from 0 to 100/,
      );
      await expectRejection(engine.setWeight("ten"), Error, /must be an integer from 0 to 100/);
      expect(stack.applied).to.deep.equal([]);
      expect(message(await engine.setWeight("25"))).to.equal(
        "green (1.0.0) gets 25%, blue (1.0.1) 75%",
      );
      expect(stack.weights()).to.deep.equal(["blue:25"]);
      await engine.rollout(request({ gates: gates({ manual: true }) }));
      await expectRejection(
        engine.setWeight("30"),
        ReleaseInProgressError,
        /use `npx ecs-canary promote`/,
      );
    });

    it("refuses a bad stack setting before changing anything", async () => {
      const stack = new MemoryStack("dev", { blueVersion: "1.0.1", canaryWeight: "150" });
      await expectRejection(
        setup({ stack }).engine.rollout(request()),
        Error,
        /invalid setting canaryWeight="150"/,
      );
      expect(stack.applied).to.deep.equal([]);
    });

    it("refuses an empty image without changing the stack", async () => {
      const { stack, engine } = setup();
      await expectRejection(
        engine.rollout(request({ image: " " })),
        Error,
        /invalid setting greenImage=" ": must not be blank when set/,
      );
      expect(release(stack)).to.equal(undefined);
    });
  });

  describe("scale first, traffic after", () => {
    /** Green stable on 1.0.2 after a promotion; blue (1.0.1) scaled down to 0. */
    const promotedStack = () =>
      new MemoryStack("dev", {
        blueVersion: "1.0.1",
        greenVersion: "1.0.2",
        stableColor: "green",
        canaryScale: "0",
      }).deployed();

    const purposes = (events: ReleaseEvent[]) =>
      events.flatMap((e) => (e.type === "update-started" ? [e.purpose] : []));

    it("set-weight to a colour at scale 0 scales it up at weight 0 first, then moves traffic", async () => {
      const { stack, engine, events } = setup({ stack: await promotedStack() });
      const outcome = await engine.setWeight("25");
      expect(stack.sequence()).to.deep.equal(["green:0/100", "green:25/100"]);
      expect(purposes(events)).to.deep.equal([
        "scale up blue (1.0.1) to 100% before it gets traffic",
        "canary weight 25%",
      ]);
      expect(message(outcome)).to.equal(
        "blue had no tasks: scaled it up to 100% and waited until they were healthy; blue (1.0.1) gets 25%, green (1.0.2) 75%",
      );
      expect(stack.config).to.include({ canaryScale: "100", canaryWeight: "25" });
    });

    it("set-weight scales up a colour the outputs show at 0 even when the setting says 100", async () => {
      const stack = await promotedStack();
      stack.config.canaryScale = "100"; // edited in the settings file, never deployed
      const { engine } = setup({ stack });
      await engine.setWeight("10");
      expect(stack.sequence()).to.deep.equal(["green:0/100", "green:10/100"]);
    });

    it("set-weight moves no traffic when the scale-up fails", async () => {
      const stack = await promotedStack();
      stack.brokenVersions.add("1.0.1");
      await expectRejection(
        setup({ stack }).engine.setWeight("25"),
        InfrastructureError,
        /update failed \(scale up blue \(1.0.1\) to 100% before it gets traffic\)/,
      );
      expect(stack.sequence()).to.deep.equal(["green:0/100 failed"]);
      expect(stack.config.canaryWeight).to.equal("0");
    });

    it("set-weight 0 needs no scale-up", async () => {
      const { stack, engine } = setup({ stack: await promotedStack() });
      await engine.setWeight("0");
      expect(stack.sequence()).to.deep.equal(["green:0/0"]);
    });

    it("refuses settings that flip stableColor to a colour at scale 0, writing nothing", async () => {
      const stack = await promotedStack();
      stack.config.stableColor = "blue"; // edited in the settings file
      const before = { ...stack.config };
      const refusal =
        /^refused to update stack dev \(.*\): blue would get 100% of traffic but its task set has no tasks \(scale 0\); scale it up first .*; nothing was changed$/;
      await expectRejection(setup({ stack }).engine.setWeight("0"), UsageError, refusal);
      await expectRejection(setup({ stack }).engine.setWeight("30"), UsageError, refusal);
      await expectRejection(setup({ stack }).engine.rollout(request()), UsageError, refusal);
      await expectRejection(setup({ stack }).engine.abort(), UsageError, refusal);
      expect(stack.config).to.deep.equal(before);
      expect(stack.attempts).to.deep.equal([]);
    });

    it("a release after a promotion deploys to the scaled-down colour at weight 0, then shifts", async () => {
      const { stack, engine } = setup({ stack: await promotedStack() });
      expect((await engine.rollout(request({ version: "1.0.3" }))).kind).to.equal("promoted");
      expect(stack.sequence()).to.deep.equal([
        "green:0/100",
        "green:10/100",
        "green:50/100",
        "green:100/100",
        "blue:0/100",
        "blue:0/0",
      ]);
    });

    it("abort of a promotion whose old stable was already scaled down scales it up before swapping back", async () => {
      const stack = devStack();
      const controller = new AbortController();
      const first = setup({ stack, signal: controller.signal });
      first.deps.report = (e) => {
        if (e.type === "decision" && e.decision.gate === "promote") controller.abort();
      };
      await first.engine.rollout(request());
      // The scale-down ran, but the run stopped before recording it: still "promoted, scaling down".
      stack.config.canaryScale = "0";
      await stack.up();
      const sequenceBefore = stack.sequence().length;
      const { engine, events } = setup({ stack });
      const outcome = await engine.abort();
      expect(outcome.kind).to.equal("aborted");
      expect(stack.sequence().slice(sequenceBefore)).to.deep.equal(["green:0/100", "blue:0/0"]);
      expect(purposes(events)).to.deep.equal([
        "scale up blue (1.0.1) to 100% before traffic returns to it",
        "swap back to the previous stable version, green (1.0.2) scaled to 0",
      ]);
      expect(message(outcome)).to.equal(
        "promotion of 1.0.2 undone: blue serves 1.0.1 at 100%; green (1.0.2) scaled to 0; blue had been scaled down, so it was scaled up again first",
      );
    });
    it("abort of a promotion whose scale-down was written but not run needs no scale-up", async () => {
      const stack = devStack();
      const controller = new AbortController();
      const first = setup({ stack, signal: controller.signal });
      first.deps.report = (e) => {
        if (e.type === "decision" && e.decision.gate === "promote") controller.abort();
      };
      await first.engine.rollout(request());
      stack.config.canaryScale = "0"; // written, then the run died before its update
      const sequenceBefore = stack.sequence().length;
      const outcome = await setup({ stack }).engine.abort();
      expect(stack.sequence().slice(sequenceBefore)).to.deep.equal(["blue:0/0"]);
      expect(message(outcome)).to.equal(
        "promotion of 1.0.2 undone: blue serves 1.0.1 at 100%; green (1.0.2) scaled to 0",
      );
    });
  });

  describe("rollback scales the failed version down", () => {
    it("sets weight 0 and canary scale 0 in one update", async () => {
      const { stack, engine } = setup({
        metrics: (step, call) => (step === 1 && call === 1 ? "fail" : "pass"),
      });
      const outcome = await engine.rollout(request());
      expect(outcome.kind).to.equal("rolled-back");
      expect(stack.sequence()).to.deep.equal([
        "blue:0/100",
        "blue:10/100",
        "blue:50/100",
        "blue:0/0",
      ]);
      expect(stack.last).to.deep.include({ weights: { blue: 100, green: 0 } });
      expect(stack.last?.green.scale).to.equal(0);
      expect(message(outcome)).to.match(
        /; blue \(1.0.1\) serves 100%; green \(1.0.2\) scaled to 0$/,
      );
    });

    it("--keep-canary keeps it running, and says so", async () => {
      const { stack, engine } = setup({ metrics: (step) => (step === 1 ? "fail" : "pass") });
      const outcome = await engine.rollout(request({ keepCanary: true }));
      expect(stack.sequence()).to.deep.equal([
        "blue:0/100",
        "blue:10/100",
        "blue:50/100",
        "blue:0/100",
      ]);
      expect(message(outcome)).to.match(/green \(1.0.2\) keeps running \(--keep-canary\)$/);
      expect(release(stack)).to.include({ keepCanary: true, status: "rolled-back" });
    });

    it("a resumed or aborted release keeps the --keep-canary it started with", async () => {
      const stack = devStack();
      await setup({ stack }).engine.rollout(
        request({ keepCanary: true, gates: gates({ manual: true }) }),
      );
      const outcome = await setup({ stack }).engine.abort();
      expect(stack.sequence()).to.deep.equal(["blue:0/100", "blue:10/100", "blue:0/100"]);
      expect(message(outcome)).to.match(/keeps running \(--keep-canary\)$/);
    });

    it("abort --no-keep-canary overrides the release's flag", async () => {
      const stack = devStack();
      await setup({ stack }).engine.rollout(
        request({ keepCanary: true, gates: gates({ manual: true }) }),
      );
      await setup({ stack }).engine.abort(false);
      expect(stack.sequence()).to.deep.equal(["blue:0/100", "blue:10/100", "blue:0/0"]);
    });

    it("plan says a kept canary keeps running", async () => {
      const lines = describePlan(await setup().engine.plan(request({ keepCanary: true })));
      expect(lines.at(-1)).to.equal(
        "a rollback keeps green (1.0.2) running for debugging (--keep-canary); if that rollback update fails, it is retried once with green scaled to 0",
      );
    });
  });

  describe("a version that never becomes healthy", () => {
    const brokenStack = () => {
      const stack = devStack();
      stack.brokenVersions.add("1.0.2");
      return stack;
    };

    it("fails its deploy and rolls back to a converged stack (the canary at 0)", async () => {
      const { stack, engine } = setup({ stack: brokenStack() });
      const outcome = await engine.rollout(request());
      expect(outcome.kind).to.equal("rolled-back");
      expect(stack.sequence()).to.deep.equal(["blue:0/100 failed", "blue:0/0"]);
      expect(message(outcome)).to.contain(
        "update failed (deploy 1.0.2 to green at 0%): update 1 failed: task set did not stabilize",
      );
      expect(message(outcome)).to.match(/green \(1.0.2\) scaled to 0$/);
      expect(release(stack)).to.include({ status: "rolled-back", phase: "done" });
    });

    it("with --keep-canary: the rollback that keeps it fails, is retried once at 0, and says so", async () => {
      const { stack, engine } = setup({ stack: brokenStack() });
      const outcome = await engine.rollout(request({ keepCanary: true }));
      expect(outcome.kind).to.equal("rolled-back");
      expect(stack.sequence()).to.deep.equal([
        "blue:0/100 failed",
        "blue:0/100 failed",
        "blue:0/0",
      ]);
      expect(message(outcome)).to.match(
        /green \(1.0.2\) could not be kept running \(update failed \(roll back: all traffic to blue \(1.0.1\), green \(1.0.2\) keeps running \(--keep-canary\)\): update 2 failed: task set did not stabilize\), so it was scaled to 0$/,
      );
      expect(
        release(stack)!
          .decisions.map((d) => d.reason)
          .at(-1),
      ).to.match(/retrying once with green scaled to 0$/);
    });

    it("abort converges a release whose canary stopped being healthy while paused", async () => {
      const stack = devStack();
      await setup({ stack }).engine.rollout(request({ gates: gates({ manual: true }) }));
      stack.brokenVersions.add("1.0.2");
      const outcome = await setup({ stack }).engine.abort();
      expect(outcome.kind).to.equal("aborted");
      expect(stack.sequence()).to.deep.equal(["blue:0/100", "blue:10/100", "blue:0/0"]);
    });

    it("abort converges a release whose rollback failed", async () => {
      const stack = brokenStack();
      stack.failUpdates.add(3); // the retry at scale 0 fails too (say, an API error)
      await expectRejection(
        setup({ stack }).engine.rollout(request({ keepCanary: true })),
        InfrastructureError,
        /rollback of 1.0.2 failed: .*retry with `npx ecs-canary abort --stack dev`/,
      );
      expect(release(stack)).to.include({ status: "failed" });
      const outcome = await setup({ stack }).engine.abort();
      expect(outcome.kind).to.equal("aborted");
      // The failed retry left canaryScale=0 in the settings: nothing is left to keep.
      expect(stack.sequence()).to.deep.equal([
        "blue:0/100 failed",
        "blue:0/100 failed",
        "blue:0/0 failed",
        "blue:0/0",
      ]);
      expect(message(outcome)).to.match(/green \(1.0.2\) scaled to 0$/);
      expect(release(stack)).to.include({ status: "aborted", phase: "done" });
    });
  });

  describe("changes that would replace the target groups", () => {
    it("refuses a containerPort change of a deployed stack, writing nothing", async () => {
      const stack = await devStack().deployed();
      stack.config.containerPort = "8080";
      const before = { ...stack.config };
      await expectRejection(
        setup({ stack }).engine.rollout(request()),
        UsageError,
        /^refused to update stack dev \(deploy 1.0.2 to green at 0%\): containerPort 4000 -> 8080 would replace both target groups and cut all traffic until the task sets follow; deploy it as a new stack instead; nothing was changed$/,
      );
      await expectRejection(setup({ stack }).engine.setWeight("0"), UsageError, /containerPort/);
      expect(stack.config).to.deep.equal(before);
      expect(stack.attempts).to.deep.equal([]);
    });

    it("refuses a move to another VPC, writing nothing", async () => {
      const stack = await devStack().deployed();
      Object.assign(stack.config, {
        vpcId: "vpc-0abc",
        subnetIds: "subnet-a,subnet-b",
        albSubnetIds: "subnet-c,subnet-d",
      });
      const before = { ...stack.config };
      await expectRejection(
        setup({ stack }).engine.setWeight("10"),
        UsageError,
        /vpcId \(created\) -> vpc-0abc would replace both target groups/,
      );
      expect(stack.config).to.deep.equal(before);
      expect(stack.attempts).to.deep.equal([]);
    });

    it("a refusal in the middle of a release leaves the release as it was", async () => {
      const stack = devStack();
      await setup({ stack }).engine.rollout(request({ gates: gates({ manual: true }) }));
      stack.config.containerPort = "8080";
      const before = { ...stack.config };
      await expectRejection(
        setup({ stack }).engine.promote(true),
        UsageError,
        /refused to update stack dev \(promote 1.0.2: green becomes stable\): containerPort 4000 -> 8080/,
      );
      expect(stack.config).to.deep.equal(before);
      expect(stack.sequence()).to.deep.equal(["blue:0/100", "blue:10/100"]);
    });
  });

  describe("gates whose data arrives late", () => {
    const lateGate = (dataDelayMs: number, passAt: number) => {
      const gate: Gate = {
        name: "metrics",
        dataDelayMs,
        async check(ctx) {
          return ctx.elapsedMs >= passAt
            ? { gate: "metrics", verdict: "pass", reason: "settled" }
            : { gate: "metrics", verdict: "inconclusive", reason: "waiting for settled intervals" };
        },
      };
      return gate;
    };

    it("hold that much longer before a step counts as inconclusive", async () => {
      const ctx = setup();
      ctx.deps.gates = () => [new BakeGate(), lateGate(3 * MIN, 8 * MIN)];
      const outcome = await new ReleaseEngine(ctx.deps).rollout(
        request({ steps: parseSteps("100", MIN) }),
      );
      // Bake 1m + 5m allowed would have rolled back at 6m; the 3m data delay allows up to 9m.
      expect(outcome.kind).to.equal("promoted");
    });

    it("name the data delay when the step still runs out", async () => {
      const ctx = setup();
      ctx.deps.gates = () => [new BakeGate(), lateGate(3 * MIN, Infinity)];
      const start = ctx.clock.now();
      const outcome = await new ReleaseEngine(ctx.deps).rollout(request());
      expect(outcome.kind).to.equal("rolled-back");
      expect(message(outcome)).to.match(
        /inconclusive for 9m \(bake 1m \+ 5m allowed \+ 3m data delay\): metrics: waiting for settled intervals/,
      );
      expect(ctx.clock.now() - start).to.equal(9 * MIN);
    });
  });

  // A step held past its bake and --max-inconclusive, short of data or undecided: the same rule.
  for (const held of [
    { what: "short of data", words: "too little data", open: SHORT, key: "shortOfData" },
    { what: "undecided", words: "undecided", open: UNDECIDED, key: "undecided" },
  ] as const) {
    describe(`a step ${held.what} past its bake and --max-inconclusive: pause or rollback`, () => {
      const heldSetup = () => {
        const ctx = setup({ metrics: () => "inconclusive" });
        ctx.metrics[held.key] = held.open;
        return ctx;
      };

      it("pauses (exit 3) with the numbers and the remedies, leaving the step's weight as it is", async () => {
        const { stack, engine, clock } = heldSetup();
        const start = clock.now();
        const outcome = await engine.rollout(
          request({ gates: gates({ onInconclusive: "pause" }) }),
        );
        expect(outcome.kind).to.equal("paused");
        expect(exitCodeFor(outcome.kind, "rollout")).to.equal(3);
        expect(message(outcome)).to.equal(
          `paused at step 1 (10%): ${held.words} after 6m (bake 1m + 5m allowed): metrics: ` +
            held.open.reason +
            `. Remedies: ${held.open.remedies.join("; ")}; ` +
            "go on with `npx ecs-canary promote --stack dev` or roll back with `npx ecs-canary abort --stack dev`",
        );
        expect(stack.weights()).to.deep.equal(["blue:0", "blue:10"]);
        expect(release(stack)).to.include({ status: "paused", phase: "gating", stepIndex: 0 });
        expect(release(stack)!.decisions.at(-1)).to.include({ gate: "metrics", verdict: "pause" });
        expect(clock.now() - start).to.equal(6 * MIN);
      });

      it("rolls back with --on-inconclusive rollback, and in releases recorded before the setting", async () => {
        for (const setting of [{ onInconclusive: "rollback" as const }, {}]) {
          const { stack, engine } = heldSetup();
          const outcome = await engine.rollout(request({ gates: gates(setting) }));
          expect(outcome.kind).to.equal("rolled-back");
          expect(message(outcome)).to.contain(
            "inconclusive for 6m (bake 1m + 5m allowed): metrics: scripted inconclusive",
          );
          expect(stack.weights()).to.deep.equal(["blue:0", "blue:10", "blue:0"]);
        }
      });
    });
  }

  describe("a step short of data past its bake and --max-inconclusive", () => {
    const shortSetup = (
      opts: { stack?: MemoryStack; clock?: FakeClock; script?: () => GateVerdict } = {},
    ) => {
      const ctx = setup({ ...opts, metrics: opts.script ?? (() => "inconclusive") });
      ctx.metrics.shortOfData = SHORT;
      return ctx;
    };

    it("still rolls back a step held for a reason more data would not settle", async () => {
      const { stack, engine } = setup({ metrics: () => "inconclusive" });
      const outcome = await engine.rollout(request({ gates: gates({ onInconclusive: "pause" }) }));
      expect(outcome.kind).to.equal("rolled-back");
      expect(stack.weights()).to.deep.equal(["blue:0", "blue:10", "blue:0"]);
    });

    it("rolls back when one gate is short of data and another held for a reason more data would not settle", async () => {
      const ctx = shortSetup();
      const held: Gate = {
        name: "webhook",
        async check() {
          return { gate: "webhook", verdict: "inconclusive", reason: "the hook says wait" };
        },
      };
      ctx.deps.gates = () => [new BakeGate(), ctx.metrics, held];
      const outcome = await new ReleaseEngine(ctx.deps).rollout(
        request({ gates: gates({ onInconclusive: "pause" }) }),
      );
      expect(outcome.kind).to.equal("rolled-back");
      expect(message(outcome)).to.contain("webhook: the hook says wait");
    });

    it("promote gives the step another --max-inconclusive from then, and goes on once it passes", async () => {
      const stack = devStack();
      const clock = new FakeClock();
      const pausing = request({ gates: gates({ onInconclusive: "pause" }) });
      await shortSetup({ stack, clock }).engine.rollout(pausing);
      // Still short: paused again 5 minutes after the promote, not at once.
      const resumedAt = clock.now();
      const again = await shortSetup({ stack, clock }).engine.promote(false);
      expect(again.kind).to.equal("paused");
      expect(clock.now() - resumedAt).to.equal(5 * MIN);
      expect(stack.weights()).to.deep.equal(["blue:0", "blue:10"]);
      // Enough data this time: the step passes on its third check and the release goes on.
      const third = shortSetup({ stack, clock, script: () => "pass" });
      let calls = 0;
      third.deps.gates = () => [
        new BakeGate(),
        {
          name: "metrics",
          async check() {
            return calls++ < 2
              ? {
                  gate: "metrics",
                  verdict: "inconclusive" as const,
                  reason: "short",
                  shortOfData: SHORT,
                }
              : { gate: "metrics", verdict: "pass" as const, reason: "enough" };
          },
        },
      ];
      const done = await new ReleaseEngine(third.deps).promote(false);
      expect(done.kind).to.equal("promoted");
      expect(stack.weights()).to.deep.equal([
        "blue:0",
        "blue:10",
        "blue:50",
        "blue:100",
        "green:0",
        "green:0",
      ]);
    });
  });

  describe("a step undecided past its bake and --max-inconclusive", () => {
    const undecidedSetup = (opts: { stack?: MemoryStack; clock?: FakeClock } = {}) => {
      const ctx = setup({ ...opts, metrics: () => "inconclusive" });
      ctx.metrics.undecided = UNDECIDED;
      return ctx;
    };

    it("pauses when one gate is short of data and another undecided, with both reasons", async () => {
      const ctx = undecidedSetup();
      const short: Gate = {
        name: "webhook",
        async check() {
          return {
            gate: "webhook",
            verdict: "inconclusive",
            reason: "waiting",
            shortOfData: { reason: "the hook has 2 of 5 samples", remedies: ["give it more time"] },
          };
        },
      };
      ctx.deps.gates = () => [new BakeGate(), ctx.metrics, short];
      const outcome = await new ReleaseEngine(ctx.deps).rollout(
        request({ gates: gates({ onInconclusive: "pause" }) }),
      );
      expect(outcome.kind).to.equal("paused");
      expect(message(outcome)).to.contain(
        `undecided after 6m (bake 1m + 5m allowed): metrics: ${UNDECIDED.reason}; ` +
          "webhook: the hook has 2 of 5 samples. Remedies: give it more time; send traffic; go on",
      );
    });
  });

  it("keeps what a passing gate hands back in the release, written with the next step, with no extra write", async () => {
    const plain = setup();
    await plain.engine.rollout(request());
    const keeping = setup();
    keeping.metrics.keep = (step) => ({ passed: step });
    // The record as each update found it: a transition is written before its update.
    const recordAtUpdate: { weight: string | undefined; memory: unknown }[] = [];
    const up = keeping.stack.up.bind(keeping.stack);
    keeping.stack.up = async (guard) => {
      recordAtUpdate.push({
        weight: keeping.stack.config.canaryWeight,
        memory: release(keeping.stack)?.gateMemory,
      });
      return up(guard);
    };
    expect((await keeping.engine.rollout(request())).kind).to.equal("promoted");
    expect(keeping.stack.tagWrites.length).to.equal(plain.stack.tagWrites.length);
    // Each step's gate reads what the step before it kept.
    const seen = keeping.metrics.calls.map((c) => [c.step, c.memory]);
    expect(seen.filter(([step]) => step === 0)).to.deep.include([0, undefined]);
    expect(seen.filter(([step]) => step === 2).map(([, m]) => m)).to.deep.equal(
      Array(3).fill({ passed: 1 }),
    );
    // The shift to 50 % wrote step 1's memory together with the weight.
    const shift = recordAtUpdate.find((u) => u.weight === "50");
    expect(shift?.memory).to.deep.equal({ metrics: { passed: 0 } });
    expect(release(keeping.stack)!.gateMemory).to.deep.equal({ metrics: { passed: 2 } });
  });

  it("a step that passes at its first check costs one tag read, one tag write and its update", async () => {
    const { stack, engine } = setup();
    stack.tagValueMax = 4096; // a self-managed backend: one tag per record write
    const atUpdate: { weight?: string; reads: number; writes: number; phase?: string }[] = [];
    const up = stack.up.bind(stack);
    stack.up = async (guard) => {
      const phase = release(stack)?.phase;
      atUpdate.push({ weight: stack.config.canaryWeight, ...io(), phase });
      return up(guard);
    };
    const io = () => ({ reads: stack.tagReads, writes: stack.tagWrites.length });
    const outcome = await engine.rollout(
      request({ steps: parseSteps("10:0s,30:0s,60:0s,100:0s", 0) }),
    );
    expect(outcome.kind).to.equal("promoted");
    const steps = atUpdate.filter((u) => u.phase === "shifting");
    expect(steps.map((u) => u.weight)).to.deep.equal(["10", "30", "60", "100"]);
    // From one step's update to the next: the shift's record (its check and one tag), no more.
    for (let i = 1; i < steps.length; i++) {
      expect(steps[i].reads - steps[i - 1].reads, `tag reads before step ${i + 1}`).to.equal(1);
      expect(steps[i].writes - steps[i - 1].writes, `tag writes before step ${i + 1}`).to.equal(1);
    }
  });

  it("records a step's gating before it waits for a check, and reads the record again at each", async () => {
    const phases: (string | undefined)[] = [];
    const { stack, engine } = setup({
      metrics: (step, call) => {
        if (step === 0) phases.push(release(stack)?.phase);
        return call < 2 ? "inconclusive" : "pass";
      },
    });
    const reads: number[] = [];
    const read = stack.listTags.bind(stack);
    stack.listTags = async () => {
      reads.push(phases.length);
      return read();
    };
    expect((await engine.rollout(request())).kind).to.equal("promoted");
    // The first check comes right after the update, before anything more is written; the
    // state it checks is written before the run sleeps, and every later check reads it back.
    expect(phases.slice(0, 3)).to.deep.equal(["shifting", "gating", "gating"]);
    expect(reads.filter((n) => n === 1).length, "reads between checks 1 and 2").to.be.at.least(2);
  });

  it("a run killed after a step's update, before its start was recorded, applies the step again and bakes it anew", async () => {
    const stack = devStack();
    const clock = new FakeClock();
    const first = setup({
      stack,
      clock,
      metrics: (step) => (step === 1 ? "inconclusive" : "pass"),
    });
    const up = stack.up.bind(stack);
    const setTag = stack.setTag.bind(stack);
    // The process dies at its next tag write once step 2's update is done.
    stack.up = async (guard) => {
      const outputs = await up(guard);
      if (stack.config.canaryWeight === "50") {
        stack.setTag = async () => {
          throw new Error("killed");
        };
      }
      return outputs;
    };
    const steps = parseSteps("10:0s,50:0s,100:0s", 0);
    const died = await first.engine.rollout(request({ steps })).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(died?.message).to.equal("killed");
    expect(release(stack)).to.include({ phase: "shifting", stepIndex: 1 });
    expect(stack.weights().at(-1)).to.equal("blue:50");
    stack.up = up;
    stack.setTag = setTag;
    const second = setup({ stack, clock });
    expect((await second.engine.rollout(request({ steps }))).kind).to.equal("promoted");
    expect(second.metrics.calls.map((c) => c.step)).to.deep.equal([1, 2]);
    expect(stack.weights().slice(-5, -3)).to.deep.equal(["blue:50", "blue:50"]);
  });

  it("Ctrl-C right after a step's update records the step's start before it stops", async () => {
    const controller = new AbortController();
    const { stack, engine } = setup({
      signal: controller.signal,
      metrics: (step) => {
        if (step === 1) controller.abort();
        return "pass";
      },
    });
    const steps = parseSteps("10:0s,50:0s,100:0s", 0);
    expect((await engine.rollout(request({ steps }))).kind).to.equal("interrupted");
    expect(release(stack)).to.include({ phase: "gating", stepIndex: 1 });
    expect(release(stack)!.stepStartedAt).to.be.a("number");
  });

  it("plans without changing anything", async () => {
    const { stack, engine } = setup();
    const before = { ...stack.config };
    const metrics = {
      mode: "judge" as const,
      allowedErrorRatio: 1,
      allowedLatencyRatio: 1.5,
      minRequests: 200,
      maxErrorRate: 0.01,
      failAfter: 3,
    };
    const lines = describePlan(await engine.plan(request({ gates: gates({ metrics }) })));
    expect(lines).to.deep.equal([
      "release 1.0.2 on green; blue keeps 1.0.1 as stable",
      "0. deploy 1.0.2 to the green task set at 0% (scale 100%) and wait until it is healthy",
      "1. 10% to green, hold 1m; gates: bake, metrics",
      "2. 50% to green, hold 1m; gates: bake, metrics",
      "3. 100% to green, hold 1m; gates: bake, metrics",
      "4. promote: green becomes stable at 100%; blue scales down after 2m",
      "steps: 10%:1m -> 50%:1m -> 100%:1m; a failed gate or update rolls back to 0%",
      "a rollback scales green (1.0.2) to 0 in the same update (--keep-canary keeps it running)",
    ]);
    expect(stack.config).to.deep.equal(before);
    expect(stack.applied).to.deep.equal([]);
  });
});

async function expectRejection(
  promise: Promise<unknown>,
  type: new (...args: never[]) => Error,
  pattern: RegExp,
) {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(type);
    expect(errorMessage(err as Error)).to.match(pattern);
    return;
  }
  expect.fail("expected a rejection");
}
