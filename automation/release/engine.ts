import { parseInteger } from "../../infra/contract/settings";
import { StackOutputs } from "../../infra/contract/outputs";
import { formatDuration } from "./duration";
import {
  DriverError,
  InfrastructureError,
  NextStep,
  ReleaseChangedError,
  ReleaseInProgressError,
  UsageError,
} from "./errors";
import { checkPreTrafficRoute, gateStep, preTrafficCheck } from "./gating";
import { Recorder } from "./record";
import { rollBack, swapBack } from "./rollback";
import { Outcome, ReleasePorts } from "./ports";
import {
  canSwapBack,
  currentWeight,
  isActive,
  newRelease,
  ReleaseRequest,
  ReleaseState,
} from "./state";

/** The ports the engine runs on (see ReleasePorts). */
export type EngineDeps = ReleasePorts;

/**
 * Walks a release through its steps. Every transition is recorded before the work it names,
 * so a run that dies at any point can be resumed by another from what the record says.
 */
export class ReleaseEngine {
  private readonly recorder: Recorder;

  constructor(private readonly deps: EngineDeps) {
    this.recorder = new Recorder(deps);
  }

  // ---- commands ---------------------------------------------------------------------------

  /** Starts a release of a new version, or resumes the one in progress for the same version. */
  async rollout(request: ReleaseRequest): Promise<Outcome> {
    const release = await this.deps.releases.read();
    if (isActive(release)) {
      if (release.version !== request.version) {
        throw new ReleaseInProgressError(
          `a release of ${release.version} is in progress on stack ${this.deps.traffic.name} ` +
            `(${release.status}, step ${release.stepIndex + 1} of ${release.steps.length})`,
          this.next("continue-or-stop"),
        );
      }
      if (release.status === "paused") {
        throw new UsageError(
          `the release of ${release.version} is paused awaiting approval at step ${release.stepIndex + 1}`,
          this.next("approve-or-roll-back"),
        );
      }
      this.deps.report({ type: "release", release, resumed: true });
      return this.run(release);
    }
    if (canSwapBack(release) && release.version === request.version) {
      // Promoted, but the old stable's scale-down had not happened yet.
      this.deps.report({ type: "release", release, resumed: true });
      return this.run(release);
    }
    const routing = await this.deps.traffic.routing();
    const fresh = newRelease(request, routing.stable, this.deps.clock.now());
    checkPreTrafficRoute(fresh.gates, routing.canaryHeader);
    // Checked and written with the release; its deploying phase runs it.
    await this.deps.traffic.stage(
      { color: fresh.canaryColor, version: fresh.version, image: request.image },
      { purpose: deployPurpose(fresh), record: this.recorder.stamp(fresh) },
    );
    this.deps.report({ type: "release", release: fresh, resumed: false });
    return this.run(fresh);
  }

  /** Approves a paused step and goes on; with `now`, skips the remaining steps and promotes. */
  async promote(now: boolean): Promise<Outcome> {
    const release = await this.deps.releases.read();
    if (!isActive(release)) {
      throw new UsageError(
        `no release is in progress on stack ${this.deps.traffic.name}`,
        this.next("start-one"),
      );
    }
    let next: ReleaseState = { ...release, status: "running" };
    if (now) {
      next = this.recorder.decide(
        { ...next, phase: "promoting" },
        "promote",
        "approved",
        "promoted now by a person",
      );
    } else if (release.status === "paused") {
      next = this.recorder.decide(
        { ...next, approvedSteps: [...release.approvedSteps, release.stepIndex] },
        "manual",
        "approved",
        `step ${release.stepIndex + 1} approved by a person`,
      );
    }
    // A promotion writes its state together with its settings, after they are checked.
    if (!now) await this.recorder.save(next);
    return this.run(next);
  }

  /**
   * All traffic back to the stable version: rolls back a release in progress (or one whose
   * rollback failed), swaps back right after a promotion while the old stable still runs, or
   * otherwise sets the canary weight to 0. `keepCanary` overrides the release's own setting.
   */
  async abort(keepCanary?: boolean): Promise<Outcome> {
    // A running driver may write the record between this abort's read and write: read again.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.abortOnce(keepCanary);
      } catch (err) {
        if (!(err instanceof ReleaseChangedError) || attempt >= 3) throw err;
      }
    }
  }

  private async abortOnce(keepCanary?: boolean): Promise<Outcome> {
    const release = await this.deps.releases.read();
    if (isActive(release) || release?.status === "failed") {
      const aborting = this.recorder.decide(
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
      return rollBack(aborting, "aborted", this.deps, this.recorder);
    }
    if (canSwapBack(release))
      return swapBack(release, keepCanary ?? release.keepCanary, this.deps, this.recorder);
    const { stable } = await this.deps.traffic.routing();
    await this.deps.traffic.shift(0, { purpose: "all traffic to the stable version" });
    return this.recorder.finish({ kind: "aborted", detail: { type: "stable-serves", stable } });
  }

  /** One weight change outside a release; a colour without tasks is scaled up first. */
  async setWeight(raw: string): Promise<Outcome> {
    const weight = parseInteger("weight", raw, 0, 100);
    const release = await this.deps.releases.read();
    if (isActive(release)) {
      throw new ReleaseInProgressError(
        `a release of ${release.version} is in progress on stack ${this.deps.traffic.name}`,
        this.next("promote-or-abort"),
      );
    }
    const { stable, canary, canaryScale } = await this.deps.traffic.routing();
    const scaledUp =
      weight > 0 &&
      (canaryScale === 0 || (await this.deps.traffic.deployed())?.[canary.color].scale === 0);
    if (scaledUp) {
      // Scale first, traffic after: a colour without tasks would get the balancer's 503s.
      await this.deps.traffic.scale(canary.color, 100, {
        purpose: `scale up ${canary.color} (${canary.version}) to 100% before it gets traffic`,
      });
    }
    await this.deps.traffic.shift(weight, { purpose: `canary weight ${weight}%` });
    return this.recorder.finish({
      kind: "done",
      detail: { type: "weight-set", weight, canary, stable, scaledUp },
    });
  }

  /** The release a rollout would run, from the stack as it is; changes nothing. */
  async plan(request: ReleaseRequest): Promise<ReleaseState> {
    const release = await this.deps.releases.read();
    if (isActive(release) && release.version !== request.version) {
      throw new ReleaseInProgressError(
        `a release of ${release.version} is in progress on stack ${this.deps.traffic.name}`,
      );
    }
    const routing = await this.deps.traffic.routing();
    const fresh = isActive(release)
      ? release
      : newRelease(request, routing.stable, this.deps.clock.now());
    checkPreTrafficRoute(fresh.gates, routing.canaryHeader);
    // The settings only: plan reads no outputs, so it works on a stack not deployed yet.
    await this.deps.traffic.validate({
      color: fresh.canaryColor,
      version: fresh.version,
      image: request.image,
    });
    return fresh;
  }

  // ---- the step loop ----------------------------------------------------------------------

  /** Drives the release; stops, writing nothing more, once another command has taken it over. */
  private async run(start: ReleaseState): Promise<Outcome> {
    try {
      return await this.drive(start);
    } catch (err) {
      if (!(err instanceof ReleaseChangedError)) throw err;
      const detail = { type: "changed-meanwhile" } as const;
      return this.recorder.finish({ kind: "aborted", detail, release: err.latest });
    }
  }

  private async drive(start: ReleaseState): Promise<Outcome> {
    const { traffic, clock, signal } = this.deps;
    let state = start;
    for (;;) {
      if (signal?.aborted) return this.interrupted(state);
      switch (state.phase) {
        case "deploying": {
          // The rollout wrote it with the release: a resumed run finds it written.
          const deployment = { color: state.canaryColor, version: state.version };
          const purpose = deployPurpose(state);
          const outputs = await this.guarded(() => traffic.deploy(deployment, { purpose }));
          if (typeof outputs === "string") return this.failedUpdate(state, outputs);
          const reported = outputs[state.canaryColor].version;
          if (reported !== state.version) {
            return rollBack(
              state,
              `the ${state.canaryColor} task set reports version ${reported}, not ${state.version}`,
              this.deps,
              this.recorder,
            );
          }
          // Before any user gets the new version: a probe through the header route, if asked.
          const preTraffic = await preTrafficCheck(state, outputs, this.deps);
          if (preTraffic.kind === "fail") {
            return rollBack(state, preTraffic.reason, this.deps, this.recorder);
          }
          if (preTraffic.kind === "pass") {
            state = this.recorder.decide(state, "pre-traffic", "pass", preTraffic.reason);
          }
          // Recorded with the first step's own record: a run killed before it deploys again.
          state = { ...state, phase: "shifting", stepIndex: 0 };
          this.recorder.defer(state);
          break;
        }
        case "shifting": {
          const weight = currentWeight(state);
          const purpose = `step ${state.stepIndex + 1}/${state.steps.length}: ${weight}% to ${state.version}`;
          const record = this.recorder.stamp(state);
          const outputs = await this.guarded(() => traffic.shift(weight, { purpose, record }));
          if (typeof outputs === "string") return this.failedUpdate(state, outputs);
          const startedAt = clock.now();
          const stepStarts = [...state.stepStarts.slice(0, state.stepIndex), startedAt];
          state = { ...state, phase: "gating", stepStartedAt: startedAt, stepStarts };
          this.recorder.defer(state);
          this.deps.report({ type: "step", release: state });
          break;
        }
        case "gating": {
          const verdict = await gateStep(state, this.deps, {
            approved: (latest) => this.approved(latest),
            beforeWait: () => this.recorder.flush(),
          });
          if (verdict.kind === "stopped") {
            if (verdict.by === "interrupt") return this.interrupted(state);
            const detail = { type: "changed-meanwhile" } as const;
            return this.recorder.finish({ kind: "aborted", detail, release: verdict.release });
          }
          if (verdict.kind === "fail")
            return rollBack(state, verdict.reason, this.deps, this.recorder);
          state = verdict.release;
          if (verdict.kind === "pause") {
            state = this.recorder.decide(
              { ...state, status: "paused" },
              verdict.gate ?? "manual",
              "pause",
              verdict.reason,
            );
            await this.recorder.save(state);
            const detail = { type: "paused", reason: verdict.reason } as const;
            return this.recorder.finish({ kind: "paused", detail, release: state });
          }
          // Kept among the decisions (the report marks each step's end); not saved here: the
          // next phase writes its state together with its settings.
          state = this.recorder.decide(state, "gates", "pass", verdict.reason);
          const last = state.stepIndex === state.steps.length - 1;
          state = last
            ? { ...state, phase: "promoting" }
            : { ...state, phase: "shifting", stepIndex: state.stepIndex + 1 };
          break;
        }
        case "promoting": {
          const purpose = `promote ${state.version}: ${state.canaryColor} becomes stable`;
          const record = this.recorder.stamp(state);
          const color = state.canaryColor;
          const promoted = await this.guarded(() => traffic.promote(color, { purpose, record }));
          if (typeof promoted === "string") {
            return this.failedUpdate(state, `promotion failed: ${promoted}`);
          }
          state = this.recorder.decide(
            {
              ...state,
              status: "promoted",
              phase: "scaling-down",
              scaleDownAt: clock.now() + state.scaleDownDelayMs,
            },
            "promote",
            "pass",
            `${state.version} promoted: ${state.canaryColor} serves 100%; ${state.stableColor} (${state.previousVersion}) scales down in ${formatDuration(state.scaleDownDelayMs)}`,
          );
          await this.recorder.save(state);
          this.deps.report({ type: "step", release: state });
          break;
        }
        case "scaling-down": {
          const wait = (state.scaleDownAt ?? 0) - clock.now();
          if (wait > 0) {
            await clock.sleep(wait, signal);
            if (signal?.aborted) return this.interrupted(state);
            const latest = await this.deps.releases.read();
            if (!canSwapBack(latest) || latest.id !== state.id) {
              const detail = { type: "undone-meanwhile" } as const;
              return this.recorder.finish({ kind: "aborted", detail, release: latest });
            }
          }
          await traffic.scale(state.stableColor, 0, {
            purpose: `scale down ${state.stableColor} (${state.previousVersion})`,
            record: this.recorder.stamp(state),
          });
          state = { ...state, phase: "done" };
          await this.recorder.save(state);
          break;
        }
        case "rolling-back":
          return rollBack(state, state.outcome ?? "rolled back", this.deps, this.recorder);
        case "done": {
          const kind = state.status === "promoted" ? "promoted" : "done";
          return this.recorder.finish({ kind, detail: { type: "finished" }, release: state });
        }
      }
    }
  }

  /** A person approved the current step at the prompt: recorded before the release goes on. */
  private async approved(latest: ReleaseState): Promise<ReleaseState> {
    const approved = this.recorder.decide(
      { ...latest, approvedSteps: [...latest.approvedSteps, latest.stepIndex] },
      "manual",
      "approved",
      `step ${latest.stepIndex + 1} approved at the prompt`,
    );
    await this.recorder.save(approved);
    return approved;
  }

  /** An update of the release failed: roll back, unless it failed because of Ctrl-C. */
  private async failedUpdate(state: ReleaseState, reason: string): Promise<Outcome> {
    if (this.deps.signal?.aborted) return this.interrupted(state);
    return rollBack(state, reason, this.deps, this.recorder);
  }

  // ---- state ------------------------------------------------------------------------------

  /** An update during a release: a failure becomes the reason to roll back. */
  private async guarded(run: () => Promise<StackOutputs>): Promise<StackOutputs | string> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof InfrastructureError) return err.message;
      throw err;
    }
  }

  /**
   * Ctrl-C: a promoted release still owns its old stable's scale-down; others stop where they
   * are, with what this run has not recorded yet (a step's start) written first.
   */
  private async interrupted(state: ReleaseState): Promise<Outcome> {
    await this.recorder.flush();
    const kind = state.status === "promoted" ? "promoted" : "interrupted";
    return this.recorder.finish({ kind, detail: { type: "interrupted" }, release: state });
  }

  private next(step: NextStep): DriverError["next"] {
    return { step, stack: this.deps.traffic.name };
  }
}

function deployPurpose(release: ReleaseState): string {
  return `deploy ${release.version} to ${release.canaryColor} at 0%`;
}
