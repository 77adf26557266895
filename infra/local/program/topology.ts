import * as pulumi from "@pulumi/pulumi";
import { Color, COLORS, Settings } from "../../contract/settings";
import { StackOutputs } from "../../contract/outputs";
import { scalesFor, weightsFor } from "../../contract/weights";
import { headerRouteFor } from "../../contract/canaryHeader";
import { LocalLoadBalancer, LocalTaskSet } from "./dynamicResources";
import { localStackOutputs } from "./outputs";
import { findProjectRoot, isFile, localStateDir } from "../../contract/projectPaths";

export interface LocalCanaryTopologyArgs {
  settings: Settings;
}

/** ECS rounds a task set's share of the desired count up. */
export function taskCount(desiredCount: number, scalePercent: number): number {
  return Math.ceil((desiredCount * scalePercent) / 100);
}

/**
 * The type LocalCanaryTopology registered before its type token was named after the class. Stacks deployed
 * then find it, and through it all its children, under the new type: the engine combines a
 * parent's aliases with each child's own name and type, so nothing is replaced
 * (https://www.pulumi.com/docs/iac/concepts/resources/options/aliases/).
 */
export const LOCAL_CANARY_TOPOLOGY_ALIASES: pulumi.Alias[] = [
  { type: "ecs-canary:local:CanaryTopology" },
];

/**
 * The article's topology on this machine: a blue and a green task set of
 * sample-service processes behind one weighted local load balancer.
 */
export class LocalCanaryTopology extends pulumi.ComponentResource {
  readonly taskSets: Record<Color, LocalTaskSet>;
  readonly loadBalancer: LocalLoadBalancer;
  readonly outputs: pulumi.Output<StackOutputs>;

  constructor(name: string, args: LocalCanaryTopologyArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      "ecs-canary:local:LocalCanaryTopology",
      name,
      {},
      {
        ...opts,
        aliases: [...(opts?.aliases ?? []), ...LOCAL_CANARY_TOPOLOGY_ALIASES],
      },
    );
    const { settings } = args;
    if (settings.platform !== "local") {
      throw new Error(`LocalCanaryTopology needs platform "local", got "${settings.platform}"`);
    }
    const stack = pulumi.getStack();
    const headerRoute = headerRouteFor(settings);
    const stateDir = localStateDir(stack, process.env, findProjectRoot(__dirname, isFile));

    const taskSet = (color: Color) =>
      new LocalTaskSet(
        `${name}-${color}`,
        {
          stack,
          color,
          version: settings[color].version,
          errorRate: settings[color].errorRate,
          latencyMs: settings[color].latencyMs,
          crashAfterMs: settings[color].crashAfterMs,
          count: taskCount(
            settings.desiredCount,
            scalesFor(settings.stableColor, settings.canaryScale)[color],
          ),
          stateDir,
        },
        { parent: this },
      );
    this.taskSets = { blue: taskSet("blue"), green: taskSet("green") };

    this.loadBalancer = new LocalLoadBalancer(
      `${name}-lb`,
      {
        stack,
        name,
        listenPort: settings.localPort,
        metricsIntervalMs: settings.metricsIntervalSeconds * 1000,
        stateDir,
        weights: weightsFor(settings.stableColor, settings.canaryWeight),
        targets: { blue: this.taskSets.blue.targets, green: this.taskSets.green.targets },
        stickinessSeconds: settings.stickinessSeconds,
        // The balancer changes after the task sets in an update: a route to a colour being
        // scaled up starts once its processes are healthy, and one being scaled to 0 ends
        // before they stop.
        ...(headerRoute && { headerRoute }),
      },
      { parent: this },
    );

    const lb = this.loadBalancer;
    const taskSetFacts = (c: Color) =>
      pulumi.output({ taskSetId: this.taskSets[c].taskSetId, version: this.taskSets[c].version });
    this.outputs = pulumi
      .output({
        balancer: {
          balancerId: lb.balancerId,
          url: lb.url,
          adminUrl: lb.adminUrl,
          targetGroups: lb.targetGroups,
          appliedWeights: lb.applied.apply((a) => a.weights),
        },
        taskSets: Object.fromEntries(COLORS.map((c) => [c, taskSetFacts(c)])) as Record<
          Color,
          pulumi.Output<{ taskSetId: string; version: string }>
        >,
      })
      .apply((facts) => localStackOutputs(settings, { name, ...facts }));

    this.registerOutputs({ outputs: this.outputs });
  }
}
