import {
  Color,
  COLORS,
  otherColor,
  parseInteger,
  parseSettings,
  parseVersion,
  Settings,
} from "../../infra/contract/settings";
import { StackOutputs } from "../../infra/contract/outputs";
import { unsafeChange } from "../../infra/contract/transition";
import { scalesFor, weightsFor } from "../../infra/contract/weights";
import { Approver, Gate, GateContext, GateResult } from "./ports";
import { StackPort } from "../stack/port";
import { formatDuration } from "./duration";
import { ReleaseInProgressError, UsageError } from "./errors";
import { describeSteps, Step } from "./plan";
import {
  canSwapBack,
  currentWeight,
  decodeState,
  Decision,
  encodeState,
  GateSettings,
  gateNames,
  isActive,
  RELEASE_KEY,
  ReleaseState,
  withDecision,
} from "./state";

export interface Clock {
  now(): number;
  /** Resolves after ms, or early when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export type ReleaseEvent =
  | { type: "release"; release: ReleaseState; resumed: boolean }
  | { type: "update-started"; purpose: string; config: Record<string, string | undefined> }
  | { type: "update-finished"; purpose: string; weights: Record<Color, number>; durationMs: number }
  | { type: "step"; release: ReleaseState }
  | { type: "gates"; release: ReleaseState; results: GateResult[]; elapsedMs: number }
  | { type: "decision"; release: ReleaseState; decision: Decision }
  | { type: "outcome"; outcome: Outcome };

export type OutcomeKind =
  | "promoted"
  | "rolled-back"
  | "paused"
  | "aborted"
  | "interrupted"
  | "done";

export interface Outcome {
  kind: OutcomeKind;
  message: string;
  release?: ReleaseState;
}

export interface EngineDeps {
  stack: StackPort;
  /** Builds the automated gates of a release from its settings and the stack's outputs. */
  gates(settings: GateSettings, outputs: StackOutputs): Gate[];
  approver: Approver;
  clock: Clock;
  report(event: ReleaseEvent): void;
  /** Aborted on Ctrl-C: the engine stops at the next safe point. */
  signal?: AbortSignal;
  /** Command prefix used in messages that tell how to continue, e.g. "npx ecs-canary". */
  command?: string;
}

export interface ReleaseRequest {
  version: string;
  steps: Step[];
  gates: GateSettings;
  scaleDownDelayMs: number;
  /** Container image for the new version (default: the canary colour's current image). */
  image?: string;
  /** After a rollback, keep the canary colour's tasks running (for debugging) instead of scaling it to 0. */
  keepCanary?: boolean;
}

/** A failed update or a mismatch between what was asked and what the platform applied. */
export class InfrastructureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InfrastructureError";
  }
}

type StepVerdict =
  | { kind: "pass"; release: ReleaseState }
  | { kind: "fail"; reason: string }
  | { kind: "pause"; reason: string; release: ReleaseState }
  | { kind: "stopped"; outcome: Outcome };

/**
 * Walks a release through its steps. Every transition is written to the
 * stack's config before the work it names, so a run that dies at any point can
 * be resumed by another from what the stack says.
 */
export class ReleaseEngine {
  private readonly cmd: string;
  /**
   * The stack as deployed: the outputs of this run's last update, or of the stack when this run
   * has made none yet. What the gates look at and what the next update is checked against.
   */
  private lastOutputs?: StackOutputs;
  /** The stack's settings as this run last read or wrote them. */
  private config: Record<string, string> = {};

  constructor(private readonly deps: EngineDeps) {
    this.cmd = deps.command ?? "npx ecs-canary";
  }

  // ---- commands ---------------------------------------------------------------------------

  /** Starts a release of a new version, or resumes the one in progress for the same version. */
  async rollout(request: ReleaseRequest): Promise<Outcome> {
    const { settings, release } = await this.read();
    if (isActive(release)) {
      if (release.version !== request.version) {
        throw new ReleaseInProgressError(
          `a release of ${release.version} is in progress on stack ${this.deps.stack.name} ` +
            `(${release.status}, step ${release.stepIndex + 1} of ${release.steps.length}); ` +
            `continue it with \`${this.cmd} promote --stack ${this.deps.stack.name}\` or stop it with \`${this.cmd} abort --stack ${this.deps.stack.name}\``,
        );
      }
      if (release.status === "paused") {
        throw new UsageError(
          `the release of ${release.version} is paused awaiting approval at step ${release.stepIndex + 1}; ` +
            `approve with \`${this.cmd} promote --stack ${this.deps.stack.name}\` or roll back with \`${this.cmd} abort --stack ${this.deps.stack.name}\``,
        );
      }
      this.deps.report({ type: "release", release, resumed: true });
      return this.drive(release);
    }
    if (canSwapBack(release) && release.version === request.version) {
      // Promoted, but the old stable's scale-down had not happened yet.
      this.deps.report({ type: "release", release, resumed: true });
      return this.drive(release);
    }
    const fresh = this.newRelease(request, settings);
    const canaryConfig = deployConfig(fresh, request.image);
    // Checked before anything is written: the deploy update below applies exactly this.
    await this.check(deployPurpose(fresh), canaryConfig);
    await this.save(fresh, canaryConfig);
    this.deps.report({ type: "release", release: fresh, resumed: false });
    return this.drive(fresh);
  }

  /** Approves a paused step and goes on; with `now`, skips the remaining steps and promotes. */
  async promote(now: boolean): Promise<Outcome> {
    const { release } = await this.read();
    if (!isActive(release)) {
      throw new UsageError(
        `no release is in progress on stack ${this.deps.stack.name}; start one with \`${this.cmd} rollout --stack ${this.deps.stack.name} --version <version>\``,
      );
    }
    let next: ReleaseState = { ...release, status: "running" };
    if (now) {
      next = this.decide(
        { ...next, phase: "promoting" },
        "promote",
        "approved",
        "promoted now by a person",
      );
    } else if (release.status === "paused") {
      next = this.decide(
        { ...next, approvedSteps: [...release.approvedSteps, release.stepIndex] },
        "manual",
        "approved",
        `step ${release.stepIndex + 1} approved by a person`,
      );
    }
    // A promotion writes its state together with its settings, after they are checked.
    if (!now) await this.save(next);
    return this.drive(next);
  }

  /**
   * All traffic back to the stable version: rolls back a release in progress (or one whose
   * rollback failed), swaps back right after a promotion while the old stable still runs, or
   * otherwise sets the canary weight to 0. `keepCanary` overrides the release's own setting.
   */
  async abort(keepCanary?: boolean): Promise<Outcome> {
    const { settings, release } = await this.read();
    if (isActive(release) || release?.status === "failed") {
      const aborting = this.decide(
        {
          ...release,
          status: "running",
          phase: "rolling-back",
          outcome: "aborted by a person",
          keepCanary: keepCanary ?? release.keepCanary,
        },
        "abort",
        "aborted",
        release.status === "failed"
          ? "aborted by a person after a failed rollback"
          : "aborted by a person",
      );
      return this.rollBack(aborting, "aborted");
    }
    if (canSwapBack(release)) return this.swapBack(release, keepCanary ?? release.keepCanary);
    await this.apply("all traffic to the stable version", { canaryWeight: "0" });
    return this.finish({
      kind: "aborted",
      message: `no release in progress; ${settings.stableColor} (${settings[settings.stableColor].version}) serves 100%`,
    });
  }

  /**
   * Undoes a promotion while the old stable still runs. Scale first, traffic after: if the old
   * stable was scaled down meanwhile (a run stopped between the scale-down and its record), it
   * is scaled up again, and waited for, before it gets traffic back.
   */
  private async swapBack(
    release: ReleaseState & { status: "promoted" },
    keepCanary: boolean | undefined,
  ): Promise<Outcome> {
    const old = release.stableColor;
    const deployed = await this.known();
    let scaledUp = "";
    // The flip itself runs the old stable at 100%: only tasks that are gone need a scale-up first.
    if ((deployed ? deployed[old].scale : validate(this.config).canaryScale) === 0) {
      await this.scaleUp(old, release.previousVersion, "before traffic returns to it");
      scaledUp = `; ${old} had been scaled down, so it was scaled up again first`;
    }
    const keep = keepCanary === true;
    const promoted = release.canaryColor;
    const canaryNote = keep
      ? `${promoted} (${release.version}) keeps running (--keep-canary)`
      : `${promoted} (${release.version}) scaled to 0`;
    const swapped: ReleaseState = this.decide(
      {
        ...release,
        status: "aborted",
        phase: "done",
        outcome: "promotion undone by a person",
        keepCanary: keep,
      },
      "abort",
      "aborted",
      `promotion undone: ${old} (${release.previousVersion}) serves again; ${canaryNote}`,
    );
    // One update: the rule moves all traffic to the old stable before the task sets change.
    await this.apply(
      `swap back to the previous stable version, ${canaryNote}`,
      { stableColor: old, canaryWeight: "0", canaryScale: keep ? "100" : "0" },
      swapped,
    );
    return this.finish({
      kind: "aborted",
      message: `promotion of ${release.version} undone: ${old} serves ${release.previousVersion} at 100%; ${canaryNote}${scaledUp}`,
      release: swapped,
    });
  }

  /** One weight change outside a release, as `pulumi up -c canaryWeight=N`. */
  async setWeight(raw: string): Promise<Outcome> {
    const weight = parseInteger("weight", raw, 0, 100);
    const { settings, release } = await this.read();
    if (isActive(release)) {
      throw new ReleaseInProgressError(
        `a release of ${release.version} is in progress on stack ${this.deps.stack.name}; ` +
          `use \`${this.cmd} promote\` or \`${this.cmd} abort\` instead of set-weight`,
      );
    }
    const canary = settings.canaryColor;
    const version = settings[canary].version;
    let scaledUp = "";
    if (weight > 0 && (settings.canaryScale === 0 || (await this.known())?.[canary].scale === 0)) {
      // Scale first, traffic after: a colour without tasks would get the balancer's 503s.
      await this.scaleUp(canary, version, "before it gets traffic");
      scaledUp = `${canary} had no tasks: scaled it up to 100% and waited until they were healthy; `;
    }
    await this.apply(`canary weight ${weight}%`, { canaryWeight: String(weight) });
    return this.finish({
      kind: "done",
      message: `${scaledUp}${canary} (${version}) gets ${weight}%, ${settings.stableColor} (${settings[settings.stableColor].version}) ${100 - weight}%`,
    });
  }

  /** What a rollout would do, from the stack as it is; changes nothing. */
  async plan(request: ReleaseRequest): Promise<string[]> {
    const { config, settings, release } = await this.read();
    if (isActive(release) && release.version !== request.version) {
      throw new ReleaseInProgressError(
        `a release of ${release.version} is in progress on stack ${this.deps.stack.name}`,
      );
    }
    const fresh = isActive(release) ? release : this.newRelease(request, settings);
    // The settings only: plan reads no outputs, so it works on a stack not deployed yet.
    validate({ ...config, ...deployConfig(fresh, request.image) });
    return describePlan(fresh);
  }

  // ---- the step loop ----------------------------------------------------------------------

  private async drive(start: ReleaseState): Promise<Outcome> {
    let state = start;
    for (;;) {
      if (this.deps.signal?.aborted) return this.finish(this.interrupted(state));
      switch (state.phase) {
        case "deploying": {
          // The rollout wrote the settings with the release; a resumed run finds them there.
          const outputs = await this.guarded(() => this.apply(deployPurpose(state), {}));
          if (typeof outputs === "string") return this.failedUpdate(state, outputs);
          if (outputs[state.canaryColor].version !== state.version) {
            return this.rollBack(
              state,
              `the ${state.canaryColor} task set reports version ${outputs[state.canaryColor].version}, not ${state.version}`,
            );
          }
          state = { ...state, phase: "shifting", stepIndex: 0 };
          await this.save(state);
          break;
        }
        case "shifting": {
          const weight = currentWeight(state);
          const outputs = await this.guarded(() =>
            this.apply(
              `step ${state.stepIndex + 1}/${state.steps.length}: ${weight}% to ${state.version}`,
              { canaryWeight: String(weight) },
              state,
            ),
          );
          if (typeof outputs === "string") return this.failedUpdate(state, outputs);
          const startedAt = this.deps.clock.now();
          const stepStarts = [...state.stepStarts.slice(0, state.stepIndex), startedAt];
          state = { ...state, phase: "gating", stepStartedAt: startedAt, stepStarts };
          await this.save(state);
          this.deps.report({ type: "step", release: state });
          break;
        }
        case "gating": {
          const verdict = await this.gateStep(state);
          if (verdict.kind === "stopped") return this.finish(verdict.outcome);
          if (verdict.kind === "fail") return this.rollBack(state, verdict.reason);
          state = verdict.release;
          if (verdict.kind === "pause") {
            state = this.decide({ ...state, status: "paused" }, "manual", "pause", verdict.reason);
            await this.save(state);
            return this.finish({
              kind: "paused",
              message:
                `paused at step ${state.stepIndex + 1} (${currentWeight(state)}%): ${verdict.reason}; ` +
                `go on with \`${this.cmd} promote --stack ${this.deps.stack.name}\` or roll back with \`${this.cmd} abort --stack ${this.deps.stack.name}\``,
              release: state,
            });
          }
          // Not saved here: the next phase writes its state together with its settings.
          const last = state.stepIndex === state.steps.length - 1;
          state = last
            ? { ...state, phase: "promoting" }
            : { ...state, phase: "shifting", stepIndex: state.stepIndex + 1 };
          break;
        }
        case "promoting": {
          const promoted = await this.guarded(() =>
            this.apply(
              `promote ${state.version}: ${state.canaryColor} becomes stable`,
              { stableColor: state.canaryColor, canaryWeight: "0" },
              state,
            ),
          );
          if (typeof promoted === "string") {
            return this.failedUpdate(state, `promotion failed: ${promoted}`);
          }
          const now = this.deps.clock.now();
          state = this.decide(
            {
              ...state,
              status: "promoted",
              phase: "scaling-down",
              scaleDownAt: now + state.scaleDownDelayMs,
            },
            "promote",
            "pass",
            `${state.version} promoted: ${state.canaryColor} serves 100%; ${state.stableColor} (${state.previousVersion}) scales down in ${formatDuration(state.scaleDownDelayMs)}`,
          );
          await this.save(state);
          this.deps.report({ type: "step", release: state });
          break;
        }
        case "scaling-down": {
          const wait = (state.scaleDownAt ?? 0) - this.deps.clock.now();
          if (wait > 0) {
            await this.deps.clock.sleep(wait, this.deps.signal);
            if (this.deps.signal?.aborted) return this.finish(this.interrupted(state));
            const latest = (await this.read()).release;
            if (!canSwapBack(latest) || latest.id !== state.id) {
              return this.finish({
                kind: "aborted",
                message: "the promotion was undone meanwhile",
                release: latest,
              });
            }
          }
          await this.apply(
            `scale down ${state.stableColor} (${state.previousVersion})`,
            { canaryScale: "0" },
            state,
          );
          state = { ...state, phase: "done" };
          await this.save(state);
          break;
        }
        case "rolling-back":
          return this.rollBack(state, state.outcome ?? "rolled back");
        case "done":
          return this.finish({
            kind: state.status === "promoted" ? "promoted" : "done",
            message:
              state.status === "promoted"
                ? `${state.version} promoted: ${state.canaryColor} serves 100%, ${state.stableColor} scaled down`
                : `release of ${state.version} ${state.status}`,
            release: state,
          });
      }
    }
  }

  /** Runs the gates of the current step until they pass, one fails, a person is needed, or the run stops. */
  private async gateStep(state: ReleaseState): Promise<StepVerdict> {
    const step = state.steps[state.stepIndex];
    const outputs = await this.known();
    if (outputs === undefined) return { kind: "fail", reason: "the stack has no outputs" };
    const gates = this.deps.gates(state.gates, outputs);
    // Gates whose data arrives late may stay inconclusive that much longer.
    const dataDelayMs = Math.max(
      0,
      ...gates.map((g) => g.dataDelayMs ?? 0).filter((ms) => Number.isFinite(ms)),
    );
    const allowedMs = state.gates.maxInconclusiveMs + dataDelayMs;
    const stepStartedAt = state.stepStartedAt ?? this.deps.clock.now();
    for (;;) {
      if (this.deps.signal?.aborted) return { kind: "stopped", outcome: this.interrupted(state) };
      const latest = (await this.read()).release;
      if (
        latest?.id !== state.id ||
        latest.phase !== "gating" ||
        latest.stepIndex !== state.stepIndex
      ) {
        return {
          kind: "stopped",
          outcome: {
            kind: "aborted",
            message: "the release was changed by another command meanwhile",
            release: latest,
          },
        };
      }
      const now = this.deps.clock.now();
      const ctx: GateContext = {
        release: latest,
        step,
        stepIndex: state.stepIndex,
        outputs,
        now,
        elapsedMs: now - stepStartedAt,
      };
      const results = await Promise.all(gates.map((gate) => this.checkGate(gate, ctx)));
      this.deps.report({ type: "gates", release: latest, results, elapsedMs: ctx.elapsedMs });
      const failed = results.filter((r) => r.verdict === "fail");
      if (failed.length > 0) {
        return { kind: "fail", reason: failed.map((r) => `${r.gate}: ${r.reason}`).join("; ") };
      }
      const waiting = results.filter((r) => r.verdict === "inconclusive");
      if (waiting.length === 0) {
        if (!state.gates.manual || latest.approvedSteps.includes(state.stepIndex)) {
          return { kind: "pass", release: latest };
        }
        const answer = await this.deps.approver.ask(ctx);
        if (answer === "approved") {
          const approved = this.decide(
            { ...latest, approvedSteps: [...latest.approvedSteps, state.stepIndex] },
            "manual",
            "approved",
            `step ${state.stepIndex + 1} approved at the prompt`,
          );
          await this.save(approved);
          return { kind: "pass", release: approved };
        }
        if (answer === "rejected")
          return { kind: "fail", reason: "manual: rejected at the prompt" };
        return { kind: "pause", reason: "awaiting a person's approval", release: latest };
      }
      const overdue = ctx.elapsedMs - step.bakeMs - allowedMs;
      if (overdue >= 0) {
        const delay = dataDelayMs > 0 ? ` + ${formatDuration(dataDelayMs)} data delay` : "";
        return {
          kind: "fail",
          reason:
            `inconclusive for ${formatDuration(ctx.elapsedMs)} (bake ${formatDuration(step.bakeMs)} + ` +
            `${formatDuration(state.gates.maxInconclusiveMs)} allowed${delay}): ` +
            waiting.map((r) => `${r.gate}: ${r.reason}`).join("; "),
        };
      }
      await this.deps.clock.sleep(Math.min(state.gates.intervalMs, -overdue), this.deps.signal);
    }
  }

  private async checkGate(gate: Gate, ctx: GateContext): Promise<GateResult> {
    try {
      return await gate.check(ctx);
    } catch (err) {
      // A gate that cannot read its data has no evidence either way: hold, never pass.
      return {
        gate: gate.name,
        verdict: "inconclusive",
        reason: `could not check: ${(err as Error).message}`,
      };
    }
  }

  /** An update of the release failed: roll back, unless it failed because of Ctrl-C. */
  private async failedUpdate(state: ReleaseState, reason: string): Promise<Outcome> {
    if (this.deps.signal?.aborted) return this.finish(this.interrupted(state));
    return this.rollBack(state, reason);
  }

  /**
   * All traffic back to the stable colour and, unless the release keeps it (--keep-canary), the
   * canary colour scaled to 0 in the same update: the listener rule is updated before the task
   * sets, so traffic leaves first, and a version that never becomes healthy does not stop the
   * rollback from converging. A kept canary whose rollback update fails is retried once at 0.
   */
  private async rollBack(state: ReleaseState, reason: string): Promise<Outcome> {
    const aborted = state.phase === "rolling-back" && reason === "aborted";
    let rolling: ReleaseState = {
      ...state,
      status: "running",
      phase: "rolling-back",
      outcome: state.outcome ?? reason,
    };
    if (state.phase !== "rolling-back") {
      rolling = this.decide(rolling, "rollback", "fail", reason);
    }
    const canary = `${state.canaryColor} (${state.version})`;
    const stable = `${state.stableColor} (${state.previousVersion})`;
    // The stable colour too: a promotion cut short may have written the canary's.
    const back = { canaryWeight: "0", stableColor: state.stableColor };
    let note = `${canary} scaled to 0`;
    let failure: InfrastructureError | undefined;
    // Nothing to keep when the settings already scale it to 0 (say, a retried rollback did).
    const keep =
      rolling.keepCanary === true && validate({ ...this.config, ...back }).canaryScale > 0;
    try {
      if (keep) {
        note = `${canary} keeps running (--keep-canary)`;
        await this.apply(`roll back: all traffic to ${stable}, ${note}`, back, rolling);
      } else {
        await this.apply(
          `roll back: all traffic to ${stable}, ${note}`,
          { ...back, canaryScale: "0" },
          rolling,
        );
      }
    } catch (err) {
      if (!(err instanceof InfrastructureError)) throw err;
      failure = err;
    }
    if (failure !== undefined && keep) {
      const why = failure.message;
      note = `${canary} could not be kept running (${why}), so it was scaled to 0`;
      rolling = this.decide(
        rolling,
        "rollback",
        "fail",
        `the rollback update that kept ${canary} running failed (${why}); retrying once with ${state.canaryColor} scaled to 0`,
      );
      try {
        await this.apply(
          `roll back again: all traffic to ${stable}, ${canary} scaled to 0`,
          { ...back, canaryScale: "0" },
          rolling,
        );
        failure = undefined;
      } catch (err) {
        if (!(err instanceof InfrastructureError)) throw err;
        failure = err;
      }
    }
    if (failure !== undefined) {
      const failed: ReleaseState = {
        ...rolling,
        status: "failed",
        outcome: `${reason}; rollback update failed: ${failure.message}`,
      };
      await this.save(failed);
      throw new InfrastructureError(
        `rollback of ${state.version} failed: ${failure.message}; the stack is set to 0% canary` +
          ` and ${state.canaryColor} at scale 0 — ` +
          `retry with \`${this.cmd} abort --stack ${this.deps.stack.name}\``,
      );
    }
    const done: ReleaseState = {
      ...rolling,
      status: aborted ? "aborted" : "rolled-back",
      phase: "done",
    };
    await this.save(done);
    return this.finish({
      kind: aborted ? "aborted" : "rolled-back",
      message: `${aborted ? "aborted" : "rolled back"} ${state.version}: ${rolling.outcome}; ${stable} serves 100%; ${note}`,
      release: done,
    });
  }

  // ---- updates and state ------------------------------------------------------------------

  /** The stack as deployed (see lastOutputs); read from the stack once per run. */
  private async known(): Promise<StackOutputs | undefined> {
    this.lastOutputs ??= await this.deps.stack.outputs();
    return this.lastOutputs;
  }

  /**
   * The settings an update with these changes would apply, checked against the stack as
   * deployed: an unsafe change (traffic to a colour without tasks, a new container port or
   * VPC) is refused with one line. Writes nothing.
   */
  private async check(
    purpose: string,
    changes: Record<string, string | undefined>,
  ): Promise<Settings> {
    const settings = validate({ ...this.config, ...changes });
    const problem = unsafeChange(await this.known(), settings);
    if (problem !== undefined) {
      throw new UsageError(
        `refused to update stack ${this.deps.stack.name} (${purpose}): ${problem}; nothing was changed`,
      );
    }
    return settings;
  }

  /**
   * One update: checks the settings it will apply, writes the changes (with the release's
   * state, when given, in the same write), runs it and verifies what the platform reports.
   */
  private async apply(
    purpose: string,
    changes: Record<string, string | undefined>,
    state?: ReleaseState,
  ): Promise<StackOutputs> {
    const settings = await this.check(purpose, changes);
    if (state !== undefined) await this.save(state, changes);
    else if (Object.keys(changes).length > 0) await this.write(changes);
    return this.update(purpose, settings);
  }

  /**
   * Scales a colour that runs at scale 0 up to 100 at weight 0 and checks from the outputs that
   * it did. The update returns once its tasks are healthy: on AWS the task set waits for
   * STEADY_STATE (waitUntilStable), which ECS reports only when the running count equals the
   * computed desired count and every task is healthy in the load balancer (ECS API reference,
   * TaskSet.stabilityStatus; terraform-provider-aws internal/service/ecs/task_set.go,
   * waitTaskSetStable); on the local stack a task set is created only once its processes
   * answer their health check.
   */
  private async scaleUp(color: Color, version: string, why: string): Promise<void> {
    const outputs = await this.apply(`scale up ${color} (${version}) to 100% ${why}`, {
      canaryScale: "100",
      canaryWeight: "0",
    });
    if (outputs[color].scale !== 100) {
      throw new InfrastructureError(
        `scale-up of ${color} failed: its task set reports scale ${outputs[color].scale}%, not 100%; no traffic was moved`,
      );
    }
  }

  /** Runs an update and checks that the platform applied the weights and scales of `settings`. */
  private async update(purpose: string, settings: Settings): Promise<StackOutputs> {
    const started = this.deps.clock.now();
    this.deps.report({
      type: "update-started",
      purpose,
      config: {
        stableColor: settings.stableColor,
        canaryWeight: String(settings.canaryWeight),
        canaryScale: String(settings.canaryScale),
      },
    });
    let outputs: StackOutputs;
    try {
      outputs = await this.deps.stack.up();
      this.lastOutputs = outputs;
    } catch (err) {
      // A failed update may have applied part of its changes: read the stack again next time.
      this.lastOutputs = undefined;
      throw new InfrastructureError(
        `update failed (${purpose}): ${firstLine((err as Error).message)}`,
      );
    }
    this.deps.report({
      type: "update-finished",
      purpose,
      weights: outputs.weights,
      durationMs: this.deps.clock.now() - started,
    });
    const stable = settings.stableColor;
    const canary = otherColor(stable);
    const weights = weightsFor(stable, settings.canaryWeight);
    if (
      outputs.weights[canary] !== weights[canary] ||
      outputs.weights[stable] !== weights[stable]
    ) {
      throw new InfrastructureError(
        `weight mismatch after update (${purpose}): asked ${stable} ${weights[stable]}% / ${canary} ${weights[canary]}%, ` +
          `the load balancer reports ${stable} ${outputs.weights[stable]}% / ${canary} ${outputs.weights[canary]}%`,
      );
    }
    const scales = scalesFor(stable, settings.canaryScale);
    for (const color of COLORS) {
      if (outputs[color].scale !== scales[color]) {
        throw new InfrastructureError(
          `scale mismatch after update (${purpose}): asked ${color} at ${scales[color]}%, its task set reports ${outputs[color].scale}%`,
        );
      }
    }
    return outputs;
  }

  /** An update during a release: a failure becomes the reason to roll back. */
  private async guarded(run: () => Promise<StackOutputs>): Promise<StackOutputs | string> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof InfrastructureError) return err.message;
      throw err;
    }
  }

  private async read(): Promise<{
    config: Record<string, string>;
    settings: Settings;
    release?: ReleaseState;
  }> {
    const config = await this.deps.stack.getConfig();
    this.config = config;
    const settings = validate(config);
    return { config, settings, release: decodeState(config[RELEASE_KEY]) };
  }

  private async write(values: Record<string, string | undefined>): Promise<void> {
    await this.deps.stack.setConfig(values);
    const next = { ...this.config };
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete next[key];
      else next[key] = value;
    }
    this.config = next;
  }

  private async save(
    state: ReleaseState,
    extra: Record<string, string | undefined> = {},
  ): Promise<void> {
    const saved = { ...state, updatedAt: this.deps.clock.now() };
    await this.write({ ...extra, [RELEASE_KEY]: encodeState(saved) });
  }

  private decide(
    state: ReleaseState,
    gate: string,
    verdict: Decision["verdict"],
    reason: string,
  ): ReleaseState {
    const decision: Decision = {
      at: this.deps.clock.now(),
      step: state.stepIndex + 1,
      weight: currentWeight(state),
      gate,
      verdict,
      reason,
    };
    const next = withDecision(state, decision);
    this.deps.report({ type: "decision", release: next, decision });
    return next;
  }

  private newRelease(request: ReleaseRequest, settings: Settings): ReleaseState {
    if (request.steps.length === 0) throw new UsageError("the release has no steps");
    parseVersion("version", request.version);
    const stable = settings.stableColor;
    if (settings[stable].version === request.version) {
      throw new UsageError(
        `version ${request.version} is already the stable version on ${stable}; nothing to release`,
      );
    }
    const now = this.deps.clock.now();
    return {
      id: `${request.version}@${now}`,
      version: request.version,
      previousVersion: settings[stable].version,
      stableColor: stable,
      canaryColor: otherColor(stable),
      steps: request.steps,
      gates: request.gates,
      stepIndex: -1,
      phase: "deploying",
      status: "running",
      stepStarts: [],
      approvedSteps: [],
      scaleDownDelayMs: request.scaleDownDelayMs,
      keepCanary: request.keepCanary === true,
      startedAt: now,
      updatedAt: now,
      decisions: [],
    };
  }

  private interrupted(state: ReleaseState): Outcome {
    if (state.status === "promoted") {
      return {
        kind: "promoted",
        message:
          `${state.version} promoted; ${state.stableColor} (${state.previousVersion}) still runs for an instant abort ` +
          `(\`${this.cmd} abort --stack ${this.deps.stack.name}\`); the next rollout scales it down`,
        release: state,
      };
    }
    return {
      kind: "interrupted",
      message:
        `stopped at step ${Math.max(state.stepIndex + 1, 0)} of ${state.steps.length} (${currentWeight(state)}% to ${state.version}); ` +
        `the stable version keeps serving. Continue with \`${this.cmd} rollout --stack ${this.deps.stack.name} --version ${state.version}\` ` +
        `or roll back with \`${this.cmd} abort --stack ${this.deps.stack.name}\``,
      release: state,
    };
  }

  private finish(outcome: Outcome): Outcome {
    this.deps.report({ type: "outcome", outcome });
    return outcome;
  }
}

/** The settings a release's deploy update applies: the new version on the canary colour, scaled up, at weight 0. */
function deployConfig(release: ReleaseState, image?: string): Record<string, string> {
  return {
    [`${release.canaryColor}Version`]: release.version,
    ...(image !== undefined ? { [`${release.canaryColor}Image`]: image } : {}),
    canaryWeight: "0",
    canaryScale: "100",
  };
}

function deployPurpose(release: ReleaseState): string {
  return `deploy ${release.version} to ${release.canaryColor} at 0%`;
}

function validate(config: Record<string, string | undefined>): Settings {
  return parseSettings((key) => config[key]);
}

function firstLine(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const error = lines.find((l) => /^error:/i.test(l));
  return (error ?? lines[0] ?? text).slice(0, 500);
}

/** The lines `plan` prints. */
export function describePlan(release: ReleaseState): string[] {
  const gates = gateNames(release.gates).join(", ");
  const lines = [
    `release ${release.version} on ${release.canaryColor}; ${release.stableColor} keeps ${release.previousVersion} as stable`,
    `0. deploy ${release.version} to the ${release.canaryColor} task set at 0% (scale 100%) and wait until it is healthy`,
    ...release.steps.map(
      (s, i) =>
        `${i + 1}. ${s.weight}% to ${release.canaryColor}, hold ${formatDuration(s.bakeMs)}; gates: ${gates}`,
    ),
    `${release.steps.length + 1}. promote: ${release.canaryColor} becomes stable at 100%; ${release.stableColor} scales down after ${formatDuration(release.scaleDownDelayMs)}`,
    `steps: ${describeSteps(release.steps)}; a failed gate or update rolls back to 0%`,
    release.keepCanary === true
      ? `a rollback keeps ${release.canaryColor} (${release.version}) running for debugging (--keep-canary); if that rollback update fails, it is retried once with ${release.canaryColor} scaled to 0`
      : `a rollback scales ${release.canaryColor} (${release.version}) to 0 in the same update (--keep-canary keeps it running)`,
  ];
  return lines;
}
