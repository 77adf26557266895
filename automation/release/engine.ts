import { Color, otherColor, parseInteger, parseSettings, Settings } from "../../infra/config";
import { StackOutputs } from "../../infra/outputs";
import { Approver, Gate, GateContext, GateResult } from "../gates/gate";
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
  /** The outputs of this run's last update: what the gates of the current step look at. */
  private lastOutputs?: StackOutputs;

  constructor(private readonly deps: EngineDeps) {
    this.cmd = deps.command ?? "npx ecs-canary";
  }

  // ---- commands ---------------------------------------------------------------------------

  /** Starts a release of a new version, or resumes the one in progress for the same version. */
  async rollout(request: ReleaseRequest): Promise<Outcome> {
    const { config, settings, release } = await this.read();
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
    const canaryConfig: Record<string, string | undefined> = {
      [`${fresh.canaryColor}Version`]: request.version,
      canaryWeight: "0",
      canaryScale: "100",
    };
    if (request.image !== undefined) canaryConfig[`${fresh.canaryColor}Image`] = request.image;
    validate({ ...config, ...canaryConfig });
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
    await this.save(next);
    return this.drive(next);
  }

  /**
   * All traffic back to the stable version: rolls back a release in progress,
   * swaps back right after a promotion while the old stable still runs, or
   * otherwise sets the canary weight to 0.
   */
  async abort(): Promise<Outcome> {
    const { release } = await this.read();
    if (isActive(release)) {
      const aborting = this.decide(
        { ...release, status: "running", phase: "rolling-back", outcome: "aborted by a person" },
        "abort",
        "aborted",
        "aborted by a person",
      );
      await this.save(aborting, { canaryWeight: "0", stableColor: release.stableColor });
      return this.rollBack(aborting, "aborted");
    }
    if (canSwapBack(release)) {
      const swapped: ReleaseState = this.decide(
        { ...release, status: "aborted", phase: "done", outcome: "promotion undone by a person" },
        "abort",
        "aborted",
        `promotion undone: ${release.stableColor} (${release.previousVersion}) serves again`,
      );
      await this.save(swapped, { stableColor: release.stableColor, canaryWeight: "0" });
      await this.update("swap back to the previous stable version", {
        stable: release.stableColor,
        canaryWeight: 0,
      });
      return this.finish({
        kind: "aborted",
        message: `promotion of ${release.version} undone: ${release.stableColor} serves ${release.previousVersion} at 100%`,
        release: swapped,
      });
    }
    const { settings } = await this.read();
    await this.deps.stack.setConfig({ canaryWeight: "0" });
    await this.update("all traffic to the stable version", {
      stable: settings.stableColor,
      canaryWeight: 0,
    });
    return this.finish({
      kind: "aborted",
      message: `no release in progress; ${settings.stableColor} (${settings[settings.stableColor].version}) serves 100%`,
    });
  }

  /** One weight change outside a release, as `pulumi up -c canaryWeight=N`. */
  async setWeight(raw: string): Promise<Outcome> {
    const weight = parseInteger("weight", raw, 0, 100);
    const { config, settings, release } = await this.read();
    if (isActive(release)) {
      throw new ReleaseInProgressError(
        `a release of ${release.version} is in progress on stack ${this.deps.stack.name}; ` +
          `use \`${this.cmd} promote\` or \`${this.cmd} abort\` instead of set-weight`,
      );
    }
    validate({ ...config, canaryWeight: String(weight) });
    await this.deps.stack.setConfig({ canaryWeight: String(weight) });
    await this.update(`canary weight ${weight}%`, {
      stable: settings.stableColor,
      canaryWeight: weight,
    });
    return this.finish({
      kind: "done",
      message: `${settings.canaryColor} (${settings[settings.canaryColor].version}) gets ${weight}%, ${settings.stableColor} (${settings[settings.stableColor].version}) ${100 - weight}%`,
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
    validate({ ...config, [`${fresh.canaryColor}Version`]: request.version, canaryWeight: "0" });
    return describePlan(fresh);
  }

  // ---- the step loop ----------------------------------------------------------------------

  private async drive(start: ReleaseState): Promise<Outcome> {
    let state = start;
    for (;;) {
      if (this.deps.signal?.aborted) return this.finish(this.interrupted(state));
      switch (state.phase) {
        case "deploying": {
          const outputs = await this.guardedUpdate(
            state,
            `deploy ${state.version} to ${state.canaryColor} at 0%`,
            0,
          );
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
          await this.save(state, { canaryWeight: String(weight) });
          const outputs = await this.guardedUpdate(
            state,
            `step ${state.stepIndex + 1}/${state.steps.length}: ${weight}% to ${state.version}`,
            weight,
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
          await this.save(state, { stableColor: state.canaryColor, canaryWeight: "0" });
          try {
            await this.update(`promote ${state.version}: ${state.canaryColor} becomes stable`, {
              stable: state.canaryColor,
              canaryWeight: 0,
            });
          } catch (err) {
            return this.failedUpdate(state, `promotion failed: ${(err as Error).message}`);
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
          await this.save(state, { canaryScale: "0" });
          await this.update(`scale down ${state.stableColor} (${state.previousVersion})`, {
            stable: state.canaryColor,
            canaryWeight: 0,
          });
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
    const outputs = this.lastOutputs ?? (await this.deps.stack.outputs());
    if (outputs === undefined) return { kind: "fail", reason: "the stack has no outputs" };
    const gates = this.deps.gates(state.gates, outputs);
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
      const overdue = ctx.elapsedMs - step.bakeMs - state.gates.maxInconclusiveMs;
      if (overdue >= 0) {
        return {
          kind: "fail",
          reason:
            `inconclusive for ${formatDuration(ctx.elapsedMs)} (bake ${formatDuration(step.bakeMs)} + ` +
            `${formatDuration(state.gates.maxInconclusiveMs)} allowed): ` +
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
    // The stable colour too: a promotion cut short may have written the canary's.
    await this.save(rolling, { canaryWeight: "0", stableColor: state.stableColor });
    try {
      await this.update(
        `roll back: all traffic to ${state.stableColor} (${state.previousVersion})`,
        {
          stable: state.stableColor,
          canaryWeight: 0,
        },
      );
    } catch (err) {
      const failed: ReleaseState = {
        ...rolling,
        status: "failed",
        outcome: `${reason}; rollback update failed: ${(err as Error).message}`,
      };
      await this.save(failed);
      throw new InfrastructureError(
        `rollback of ${state.version} failed: ${(err as Error).message}; the stack is set to 0% canary — ` +
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
      message: `${aborted ? "aborted" : "rolled back"} ${state.version}: ${rolling.outcome}; ${state.stableColor} (${state.previousVersion}) serves 100%`,
      release: done,
    });
  }

  // ---- updates and state ------------------------------------------------------------------

  /** Runs an update and checks that the platform applied the weights asked for. */
  private async update(
    purpose: string,
    want: { stable: Color; canaryWeight: number },
  ): Promise<StackOutputs> {
    const started = this.deps.clock.now();
    this.deps.report({
      type: "update-started",
      purpose,
      config: { canaryWeight: String(want.canaryWeight) },
    });
    let outputs: StackOutputs;
    try {
      outputs = await this.deps.stack.up();
      this.lastOutputs = outputs;
    } catch (err) {
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
    const canary = otherColor(want.stable);
    if (
      outputs.weights[canary] !== want.canaryWeight ||
      outputs.weights[want.stable] !== 100 - want.canaryWeight
    ) {
      throw new InfrastructureError(
        `weight mismatch after update (${purpose}): asked ${want.stable} ${100 - want.canaryWeight}% / ${canary} ${want.canaryWeight}%, ` +
          `the load balancer reports ${want.stable} ${outputs.weights[want.stable]}% / ${canary} ${outputs.weights[canary]}%`,
      );
    }
    return outputs;
  }

  /** An update during a release: a failure becomes the reason to roll back. */
  private async guardedUpdate(
    state: ReleaseState,
    purpose: string,
    weight: number,
  ): Promise<StackOutputs | string> {
    try {
      return await this.update(purpose, { stable: state.stableColor, canaryWeight: weight });
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
    const settings = validate(config);
    return { config, settings, release: decodeState(config[RELEASE_KEY]) };
  }

  private async save(
    state: ReleaseState,
    extra: Record<string, string | undefined> = {},
  ): Promise<void> {
    const saved = { ...state, updatedAt: this.deps.clock.now() };
    await this.deps.stack.setConfig({ ...extra, [RELEASE_KEY]: encodeState(saved) });
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
    `0. deploy ${release.version} to the ${release.canaryColor} task set at 0% and wait until it is healthy`,
    ...release.steps.map(
      (s, i) =>
        `${i + 1}. ${s.weight}% to ${release.canaryColor}, hold ${formatDuration(s.bakeMs)}; gates: ${gates}`,
    ),
    `${release.steps.length + 1}. promote: ${release.canaryColor} becomes stable at 100%; ${release.stableColor} scales down after ${formatDuration(release.scaleDownDelayMs)}`,
    `steps: ${describeSteps(release.steps)}; a failed gate or update rolls back to 0%`,
  ];
  return lines;
}
