import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { Color } from "../../contract/settings";
import type { HeaderRoute } from "../../contract/canaryHeader";
import { ColorWeights } from "../../contract/weights";
import type { AppliedRouting } from "../providers/routing";
import type { TaskRecord } from "../providers/resourceShapes";
import { findProjectRoot, isFile } from "../../contract/projectPaths";

type Impl = Required<
  Pick<pulumi.dynamic.ResourceProvider, "create" | "diff" | "read" | "update" | "delete">
>;

/**
 * Pulumi serialises a dynamic provider's functions into the stack state and
 * runs them in its provider process; a delete runs the text stored with the
 * resource, whichever working copy runs it. So the text names no absolute
 * path: it holds the implementation's path relative to the project root
 * (`fromRoot`) and, at run time, finds the root from the provider process's
 * working directory (the engine starts plugins in the project or the folder of
 * `main` inside it) by looking for Pulumi.yaml upwards. A stack created from one
 * copy is then updated and destroyed from any other, or after its folder moved.
 */
export function delegatingProvider(fromRoot: string): pulumi.dynamic.ResourceProvider {
  const impl = (): Impl => {
    /* eslint-disable @typescript-eslint/no-require-imports -- runs in the provider process */
    const fs = require("fs") as typeof import("fs");
    const path = require("path") as typeof import("path");
    let dir = process.cwd();
    while (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) {
      const parent = path.dirname(dir);
      if (parent === dir) {
        throw new Error(`no Pulumi.yaml in ${process.cwd()} or above it, to find ${fromRoot} in`);
      }
      dir = parent;
    }
    return require(path.join(dir, fromRoot)).provider;
    /* eslint-enable @typescript-eslint/no-require-imports */
  };
  return {
    create: (inputs) => impl().create(inputs),
    diff: (id, olds, news) => impl().diff(id, olds, news),
    read: (id, props) => impl().read(id, props),
    update: (id, olds, news) => impl().update(id, olds, news),
    delete: (id, props) => impl().delete(id, props),
  };
}

/** A compiled module of this folder's sibling `providers`, relative to the project root. */
function providerModule(file: string): string {
  const root = findProjectRoot(__dirname, isFile);
  return path.relative(root, path.join(__dirname, "..", "providers", file));
}

export const TASK_SET_PROVIDER_PATH = providerModule("taskSetProvider.js");
export const LOAD_BALANCER_PROVIDER_PATH = providerModule("loadBalancerProvider.js");
// One object per type: Pulumi serialises a provider object once and caches the text.
export const taskSetProvider = delegatingProvider(TASK_SET_PROVIDER_PATH);
export const loadBalancerProvider = delegatingProvider(LOAD_BALANCER_PROVIDER_PATH);

export interface LocalTaskSetArgs {
  stack: pulumi.Input<string>;
  color: pulumi.Input<Color>;
  version: pulumi.Input<string>;
  errorRate: pulumi.Input<number>;
  latencyMs: pulumi.Input<number>;
  crashAfterMs: pulumi.Input<number>;
  count: pulumi.Input<number>;
  stateDir: pulumi.Input<string>;
}

/** A task set: `count` sample-service processes; see task-set-provider.ts. */
export class LocalTaskSet extends pulumi.dynamic.Resource {
  declare readonly taskSetId: pulumi.Output<string>;
  declare readonly version: pulumi.Output<string>;
  declare readonly targets: pulumi.Output<string[]>;
  declare readonly tasks: pulumi.Output<TaskRecord[]>;

  constructor(name: string, args: LocalTaskSetArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      taskSetProvider,
      name,
      {
        ...args,
        taskSetId: undefined,
        targets: undefined,
        tasks: undefined,
        runningTasks: undefined,
      },
      opts,
      "local",
      "TaskSet",
    );
  }
}

export interface LocalLoadBalancerArgs {
  stack: pulumi.Input<string>;
  name: pulumi.Input<string>;
  listenPort: pulumi.Input<number>;
  metricsIntervalMs: pulumi.Input<number>;
  stateDir: pulumi.Input<string>;
  weights: pulumi.Input<ColorWeights>;
  targets: pulumi.Input<Record<Color, pulumi.Input<string[]>>>;
  stickinessSeconds: pulumi.Input<number>;
  /** Absent: no header route. */
  headerRoute?: pulumi.Input<HeaderRoute>;
}

/** The balancer process and its forward rule; see load-balancer-provider.ts. */
export class LocalLoadBalancer extends pulumi.dynamic.Resource {
  declare readonly balancerId: pulumi.Output<string>;
  declare readonly url: pulumi.Output<string>;
  declare readonly adminUrl: pulumi.Output<string>;
  declare readonly pid: pulumi.Output<number>;
  declare readonly targetGroups: pulumi.Output<Record<Color, string>>;
  declare readonly applied: pulumi.Output<AppliedRouting>;

  constructor(name: string, args: LocalLoadBalancerArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      loadBalancerProvider,
      name,
      {
        ...args,
        balancerId: undefined,
        pid: undefined,
        token: undefined,
        logFile: undefined,
        port: undefined,
        adminPort: undefined,
        url: undefined,
        adminUrl: undefined,
        targetGroups: undefined,
        applied: undefined,
        running: undefined,
      },
      opts,
      "local",
      "LoadBalancer",
    );
  }
}
