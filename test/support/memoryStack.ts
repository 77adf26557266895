import { awsStackOutputs } from "../../infra/aws/outputs";
import { Color, COLORS, parseSettings } from "../../infra/contract/settings";
import { StackOutputs } from "../../infra/contract/outputs";
import { scalesFor, weightsFor } from "../../infra/contract/weights";
import { StackPort } from "../../automation/stack/port";
import { StackTraffic, StackTrafficOptions } from "../../automation/stack/stackTraffic";

/** What one update applied, as the platform would see it. */
export interface AppliedUpdate {
  stableColor: string;
  canaryWeight: number;
  canaryScale: number;
  blueVersion: string;
  greenVersion: string;
}

/** Thrown by a scripted crash: the driver process "dies" at that point. */
export class Crash extends Error {}

/**
 * A stack held in memory for unit tests of the release engine: settings as
 * Pulumi stores them, and an update that computes the outputs the program
 * would export. Failures are scripted per update. `ports` gives the traffic port
 * and release store over it, as the CLI builds them over a Pulumi stack.
 */
export class MemoryStack implements StackPort {
  config: Record<string, string>;
  applied: AppliedUpdate[] = [];
  last?: StackOutputs;
  /** Updates (1-based count) that fail with an engine error. */
  failUpdates = new Set<number>();
  /** Updates after which the load balancer reports other weights than asked. */
  misapplyUpdates = new Set<number>();
  /**
   * Versions whose tasks never become healthy: an update fails (as a task set that never
   * stabilises) while such a version runs at a scale above 0 on either colour.
   */
  brokenVersions = new Set<string>();
  /** The stack's tags (the release's record, the driver's lease), as a backend keeps them. */
  tags: Record<string, string> = {};
  /** Every tag write, in order. */
  tagWrites: string[] = [];
  /** Tag reads (listTags calls). */
  tagReads = 0;
  /** The backend's largest tag value; unset: Pulumi Cloud's 256. */
  tagValueMax?: number;
  /** Every write and update in order: "tags" (a record or lease write), "config", "up". */
  journal: string[] = [];
  /** Every settings write, in order: the values of one setConfig call. */
  writes: Record<string, string | undefined>[] = [];
  /** Every update tried, applied or not, in order. */
  attempts: (AppliedUpdate & { failed: boolean })[] = [];
  /** Operation number (counting getConfig, setConfig and up) at which the process dies. */
  crashAt?: number;
  operations = 0;
  private updates = 0;

  constructor(
    readonly name: string,
    config: Record<string, string>,
  ) {
    this.config = { ...config };
  }

  private tick() {
    this.operations++;
    // Once dead, the process does nothing more: every later operation fails too.
    if (this.crashAt !== undefined && this.operations >= this.crashAt) {
      throw new Crash(`crash at ${this.crashAt}`);
    }
  }

  async getConfig() {
    this.tick();
    return { ...this.config };
  }

  async setConfig(values: Record<string, string | undefined>) {
    this.tick();
    this.writes.push({ ...values });
    this.journal.push("config");
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete this.config[key];
      else this.config[key] = value;
    }
  }

  async listTags() {
    this.tick();
    this.tagReads++;
    return { ...this.tags };
  }

  async setTag(name: string, value: string) {
    this.tick();
    this.tagWrites.push(name);
    if (this.journal.at(-1) !== "tags") this.journal.push("tags");
    this.tags[name] = value;
  }

  async removeTag(name: string) {
    this.tick();
    delete this.tags[name];
  }

  async up(guard?: () => Promise<void>): Promise<StackOutputs> {
    await guard?.();
    this.tick();
    this.journal.push("up");
    this.updates++;
    const s = parseSettings((key) => this.config[key]);
    const scales = scalesFor(s.stableColor, s.canaryScale);
    const update: AppliedUpdate = {
      stableColor: s.stableColor,
      canaryWeight: s.canaryWeight,
      canaryScale: s.canaryScale,
      blueVersion: s.blue.version,
      greenVersion: s.green.version,
    };
    const broken = COLORS.find((c) => scales[c] > 0 && this.brokenVersions.has(s[c].version));
    if (this.failUpdates.has(this.updates) || broken !== undefined) {
      this.attempts.push({ ...update, failed: true });
      throw new Error(`error: update ${this.updates} failed: task set did not stabilize`);
    }
    this.attempts.push({ ...update, failed: false });
    const weights = weightsFor(s.stableColor, s.canaryWeight);
    if (this.misapplyUpdates.has(this.updates))
      weights[s.canaryColor] = Math.max(0, weights[s.canaryColor] - 5);
    this.applied.push(update);
    // The outputs the AWS program would export, from what the memory "platform" reports.
    const group = (c: Color) => ({ arn: `tg-${c}`, arnSuffix: `targetgroup/${c}` });
    const taskSet = (c: Color) => ({ taskSetId: `ts-${c}-${s[c].version}`, scale: scales[c] });
    this.last = awsStackOutputs(
      {
        stableColor: s.stableColor,
        canaryWeight: s.canaryWeight,
        versions: { blue: s.blue.version, green: s.green.version },
        containerPort: s.containerPort,
        vpcCreated: s.network.vpcId === undefined,
        // Its metrics are settled as soon as an interval ends.
        metricsSettleSeconds: 0,
      },
      {
        url: "http://memory",
        appliedWeights: weights,
        targetGroups: { blue: group("blue"), green: group("green") },
        taskSets: { blue: taskSet("blue"), green: taskSet("green") },
        loadBalancerArnSuffix: "app/memory/1",
        listenerRuleArn: "rule",
        vpcId: "vpc-memory",
        clusterName: "memory",
        serviceName: "svc",
        region: "memory",
      },
    );
    return this.last;
  }

  async outputs() {
    this.tick();
    return this.last;
  }

  /** The traffic port and the release store over this stack's settings. */
  ports(options: StackTrafficOptions): StackTraffic {
    return new StackTraffic(this, options);
  }

  /** The canary weights of the updates so far, e.g. [0, 10, 50, 100, 0]. */
  weights(): string[] {
    return this.applied.map((a) => `${a.stableColor}:${a.canaryWeight}`);
  }

  /**
   * Every update tried, as stable colour, canary weight and canary scale, failed ones marked:
   * e.g. ["blue:0/100 failed", "blue:0/0"].
   */
  sequence(): string[] {
    return this.attempts.map(
      (a) => `${a.stableColor}:${a.canaryWeight}/${a.canaryScale}${a.failed ? " failed" : ""}`,
    );
  }

  /** Runs one update with the current settings and forgets it: a stack as deployed before a test. */
  async deployed(): Promise<this> {
    await this.up();
    this.applied = [];
    this.attempts = [];
    this.writes = [];
    this.tagWrites = [];
    this.journal = [];
    this.operations = 0;
    this.updates = 0;
    return this;
  }
}
