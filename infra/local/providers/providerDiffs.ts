import type { DiffResult } from "@pulumi/pulumi/dynamic";
import {
  LoadBalancerInputs,
  LoadBalancerState,
  TaskSetInputs,
  TaskSetState,
} from "./resourceShapes";
import { Routing, sameRouting } from "./routing";

/**
 * Like an ECS task set, whose task definition cannot change in place: any
 * change of what runs, or a task that died, replaces the whole task set
 * (the new one is started and healthy before the old one is stopped).
 */
export const TASK_SET_REPLACING_KEYS = [
  "color",
  "version",
  "errorRate",
  "latencyMs",
  "crashAfterMs",
  "count",
] as const satisfies readonly (keyof TaskSetInputs)[];

/**
 * What an input added after a stack was created means when its recorded state lacks it: the
 * value that behaves as before, so that an upgrade alone replaces no task set.
 */
const TASK_SET_INPUT_DEFAULTS: Partial<TaskSetInputs> = { crashAfterMs: 0 };

export function diffTaskSet(
  olds: TaskSetState,
  news: TaskSetInputs,
  allRunning: boolean,
): DiffResult {
  const recorded = (key: (typeof TASK_SET_REPLACING_KEYS)[number]) =>
    (olds as Partial<TaskSetState>)[key] ?? TASK_SET_INPUT_DEFAULTS[key];
  const replaces: string[] = TASK_SET_REPLACING_KEYS.filter((key) => recorded(key) !== news[key]);
  if (!allRunning) replaces.push("tasks");
  return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
}

export interface LiveBalancer {
  running: boolean;
  /** The rule the balancer reports now; undefined when it could not be read. */
  routing?: Routing;
}

/**
 * A dead balancer is replaced (deleted first, so that a fixed port is free
 * again); a new fixed port replaces it too. Weights and targets change in
 * place, also when the live rule has drifted from the recorded one.
 */
export function diffLoadBalancer(
  olds: LoadBalancerState,
  news: LoadBalancerInputs,
  live: LiveBalancer,
): DiffResult {
  if (!live.running) return { changes: true, replaces: ["pid"], deleteBeforeReplace: true };
  if (news.listenPort !== 0 && news.listenPort !== olds.port) {
    return { changes: true, replaces: ["listenPort"], deleteBeforeReplace: false };
  }
  if (news.metricsIntervalMs !== (olds.metricsIntervalMs ?? 60_000)) {
    return {
      changes: true,
      replaces: ["metricsIntervalMs"],
      deleteBeforeReplace: news.listenPort !== 0,
    };
  }
  const desired: Routing = {
    weights: news.weights,
    targets: news.targets,
    stickinessSeconds: news.stickinessSeconds,
    headerRoute: news.headerRoute,
  };
  const drifted = live.routing !== undefined && !sameRouting(desired, live.routing);
  return { changes: drifted || !sameRouting(desired, olds.applied), replaces: [] };
}
