import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { Color } from "../../contract/settings";
import type { HeaderRoute } from "../../contract/canaryHeader";
import { ColorWeights } from "../../contract/weights";
import type { AppliedRouting } from "../providers/routing";
import type { TaskRecord } from "../providers/resourceShapes";

type Impl = Required<
  Pick<pulumi.dynamic.ResourceProvider, "create" | "diff" | "read" | "update" | "delete">
>;

/**
 * Pulumi serialises a dynamic provider's functions into the stack state and
 * runs them in its provider process. To keep that text small and free of
 * captured modules, each method only loads the compiled implementation by
 * absolute path (`implPath` is the one captured value) and delegates.
 */
export function delegatingProvider(implPath: string): pulumi.dynamic.ResourceProvider {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- runs in the provider process
  const impl = (): Impl => require(implPath).provider;
  return {
    create: (inputs) => impl().create(inputs),
    diff: (id, olds, news) => impl().diff(id, olds, news),
    read: (id, props) => impl().read(id, props),
    update: (id, olds, news) => impl().update(id, olds, news),
    delete: (id, props) => impl().delete(id, props),
  };
}

export const TASK_SET_PROVIDER_PATH = path.join(__dirname, "..", "providers", "taskSetProvider.js");
export const LOAD_BALANCER_PROVIDER_PATH = path.join(
  __dirname,
  "..",
  "providers",
  "loadBalancerProvider.js",
);
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
