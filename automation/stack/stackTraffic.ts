import { Color, COLORS, otherColor, parseSettings, Settings } from "../../infra/contract/settings";
import { StackOutputs } from "../../infra/contract/outputs";
import { unsafeChange } from "../../infra/contract/transition";
import { scalesFor, weightsFor } from "../../infra/contract/weights";
import { errorLine, InfrastructureError, ReleaseChangedError, UsageError } from "../release/errors";
import {
  ArchivedRelease,
  Clock,
  Deployment,
  ReleaseArchive,
  ReleaseStore,
  Report,
  Routing,
  TrafficPort,
  UpdateOptions,
} from "../release/ports";
import { ReleaseState } from "../release/state";
import { StackPort } from "./port";
import { TagArchive } from "./tagArchive";
import { TagReleaseStore } from "./tagReleaseStore";

/** The stack settings the driver writes: the only place that names them. */
const KEY = {
  canaryWeight: "canaryWeight",
  stableColor: "stableColor",
  canaryScale: "canaryScale",
  version: (color: Color) => `${color}Version`,
  image: (color: Color) => `${color}Image`,
} as const;

type Changes = Record<string, string | undefined>;

export interface StackTrafficOptions {
  /** Times the updates. */
  clock: Clock;
  /** Told when an update starts and ends. */
  report: Report;
}

/**
 * Traffic and the release's record over a Pulumi stack: every change is a few settings
 * (`canaryWeight`, `stableColor`, `canaryScale`, `<colour>Version`, `<colour>Image`) and one
 * update, checked and verified against the stack's outputs. The release's record lives in the
 * stack's tags (TagReleaseStore); one object is both ports because a change's record is written
 * before the update that applies it, and the update runs only while the record is still this
 * run's: a run that dies between the two is resumed from the record, which names the change.
 */
export class StackTraffic implements TrafficPort, ReleaseStore, ReleaseArchive {
  /** The stack's settings as this run last read or wrote them. */
  private config?: Record<string, string>;
  /**
   * The stack as deployed: the outputs of this run's last update, or of the stack when this run
   * has made none yet. What the next update is checked against.
   */
  private lastOutputs?: StackOutputs;

  private readonly store: TagReleaseStore;
  private readonly kept: TagArchive;

  constructor(
    private readonly stack: StackPort,
    private readonly options: StackTrafficOptions,
  ) {
    this.store = new TagReleaseStore(stack);
    this.kept = new TagArchive(stack);
  }

  get name(): string {
    return this.stack.name;
  }

  // ---- the release's record ---------------------------------------------------------------

  async read(): Promise<ReleaseState | undefined> {
    const state = await this.store.read();
    validate(await this.settings());
    return state;
  }

  async write(state: ReleaseState): Promise<void> {
    await this.store.write(state);
  }

  // ---- finished releases, for their reports (in the stack's tags too: tagArchive.ts) --------

  archived(): Promise<ArchivedRelease[]> {
    return this.kept.archived();
  }

  archive(entry: ArchivedRelease): Promise<void> {
    return this.kept.archive(entry);
  }

  // ---- traffic ----------------------------------------------------------------------------

  async routing(): Promise<Routing> {
    const s = validate(await this.settings());
    return {
      stable: { color: s.stableColor, version: s[s.stableColor].version },
      canary: { color: s.canaryColor, version: s[s.canaryColor].version },
      canaryWeight: s.canaryWeight,
      canaryScale: s.canaryScale,
      ...(s.canaryHeader && { canaryHeader: s.canaryHeader }),
    };
  }

  async deployed(): Promise<StackOutputs | undefined> {
    this.lastOutputs ??= await this.stack.outputs();
    return this.lastOutputs;
  }

  async validate(deployment: Deployment): Promise<void> {
    validate({ ...(await this.settings()), ...deployChanges(deployment) });
  }

  async stage(deployment: Deployment, options: UpdateOptions & { record: ReleaseState }) {
    const changes = deployChanges(deployment);
    await this.check(options.purpose, changes);
    await this.store.write(options.record);
    await this.set(changes);
  }

  deploy(deployment: Deployment, options: UpdateOptions): Promise<StackOutputs> {
    return this.change(deployChanges(deployment), options);
  }

  shift(weight: number, options: UpdateOptions): Promise<StackOutputs> {
    return this.change({ [KEY.canaryWeight]: String(weight) }, options);
  }

  promote(color: Color, options: UpdateOptions & { otherScale?: 0 | 100 }) {
    return this.change(
      {
        [KEY.stableColor]: color,
        [KEY.canaryWeight]: "0",
        ...(options.otherScale !== undefined
          ? { [KEY.canaryScale]: String(options.otherScale) }
          : {}),
      },
      options,
    );
  }

  async scale(color: Color, scale: 0 | 100, options: UpdateOptions): Promise<StackOutputs> {
    if (validate(await this.settings()).stableColor === color) {
      throw new UsageError(
        `refused to update stack ${this.name} (${options.purpose}): ${color} is the stable colour, ` +
          `whose task set always runs at 100%; nothing was changed`,
      );
    }
    return this.change({ [KEY.canaryScale]: String(scale), [KEY.canaryWeight]: "0" }, options);
  }

  rollBack(stable: Color, keepCanary: boolean, options: UpdateOptions): Promise<StackOutputs> {
    // The stable colour too: a promotion cut short may have written the canary's.
    return this.change(
      {
        [KEY.canaryWeight]: "0",
        [KEY.stableColor]: stable,
        ...(keepCanary ? {} : { [KEY.canaryScale]: "0" }),
      },
      options,
    );
  }

  // ---- settings and updates ---------------------------------------------------------------

  private async settings(): Promise<Record<string, string>> {
    this.config ??= await this.stack.getConfig();
    return this.config;
  }

  /**
   * The settings an update with these changes would apply, checked against the stack as
   * deployed: an unsafe change (traffic to a colour without tasks, a new container port or
   * VPC) is refused with one line. Writes nothing.
   */
  private async check(purpose: string, changes: Changes): Promise<Settings> {
    const settings = validate({ ...(await this.settings()), ...changes });
    const problem = unsafeChange(await this.deployed(), settings);
    if (problem !== undefined) {
      throw new UsageError(
        `refused to update stack ${this.name} (${purpose}): ${problem}; nothing was changed`,
      );
    }
    return settings;
  }

  /**
   * One update: checks the settings it will apply, records the release's state (when given)
   * before anything else, stages the changes, runs it and verifies what the platform reports.
   */
  private async change(changes: Changes, options: UpdateOptions): Promise<StackOutputs> {
    const settings = await this.check(options.purpose, changes);
    if (options.record) await this.store.write(options.record);
    await this.set(changes);
    // A record write has just checked that the release is still this run's: the first attempt
    // need not read the tags again (one CLI run less per step); a retry does.
    return this.update(options.purpose, settings, options.record !== undefined);
  }

  /** Writes the settings that differ from the stack's (undefined removes one). */
  private async set(values: Changes): Promise<void> {
    const config = await this.settings();
    const changed = Object.entries(values).filter(([key, value]) => config[key] !== value);
    if (changed.length === 0) return;
    await this.stack.setConfig(Object.fromEntries(changed));
    const next = { ...config };
    for (const [key, value] of changed) {
      if (value === undefined) delete next[key];
      else next[key] = value;
    }
    this.config = next;
  }

  /**
   * Runs an update and checks that the platform applied the weights and scales of `settings`.
   * The update returns once the task sets are healthy: on AWS a task set waits for
   * STEADY_STATE (waitUntilStable), which ECS reports only when the running count equals the
   * computed desired count and every task is healthy in the load balancer (ECS API reference,
   * TaskSet.stabilityStatus; terraform-provider-aws internal/service/ecs/task_set.go,
   * waitTaskSetStable); on the local stack a task set is created only once its processes
   * answer their health check.
   */
  private async update(
    purpose: string,
    settings: Settings,
    justChecked = false,
  ): Promise<StackOutputs> {
    const { clock, report } = this.options;
    const started = clock.now();
    report({
      type: "update-started",
      purpose,
      config: {
        [KEY.stableColor]: settings.stableColor,
        [KEY.canaryWeight]: String(settings.canaryWeight),
        [KEY.canaryScale]: String(settings.canaryScale),
      },
    });
    let outputs: StackOutputs;
    try {
      // No update once another command (an abort from elsewhere) has taken the release over.
      let checked = justChecked;
      outputs = await this.stack.up(async () => {
        if (checked) checked = false;
        else await this.store.assertUnchanged();
      });
      this.lastOutputs = outputs;
    } catch (err) {
      if (err instanceof ReleaseChangedError) throw err;
      // A failed update may have applied part of its changes: read the stack again next time.
      this.lastOutputs = undefined;
      throw new InfrastructureError(
        `update failed (${purpose}): ${errorLine((err as Error).message)}`,
      );
    }
    report({
      type: "update-finished",
      purpose,
      weights: outputs.weights,
      durationMs: clock.now() - started,
    });
    verify(purpose, settings, outputs);
    return outputs;
  }
}

/** The settings a deployment writes: the version (and image) on its colour, scaled up, at weight 0. */
function deployChanges({ color, version, image }: Deployment): Changes {
  return {
    [KEY.version(color)]: version,
    ...(image !== undefined ? { [KEY.image(color)]: image } : {}),
    [KEY.canaryWeight]: "0",
    [KEY.canaryScale]: "100",
  };
}

function validate(config: Record<string, string | undefined>): Settings {
  return parseSettings((key) => config[key]);
}

/** The weights and scales the outputs report are those the settings ask for. */
function verify(purpose: string, settings: Settings, outputs: StackOutputs): void {
  const stable = settings.stableColor;
  const canary = otherColor(stable);
  const weights = weightsFor(stable, settings.canaryWeight);
  if (outputs.weights[canary] !== weights[canary] || outputs.weights[stable] !== weights[stable]) {
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
}
