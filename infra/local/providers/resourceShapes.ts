import { Color } from "../../contract/settings";
import { HeaderRoute } from "../../contract/canaryHeader";
import { ColorWeights } from "../../contract/weights";
import { AppliedRouting } from "./routing";

/**
 * Inputs and recorded state of the two local resource types. A dynamic
 * provider's diff sees the recorded state as "olds", so the state repeats the
 * inputs it was made from.
 */
export interface TaskSetInputs {
  stack: string;
  color: Color;
  version: string;
  errorRate: number;
  latencyMs: number;
  /** Each process exits this long after it starts listening; 0: never. */
  crashAfterMs: number;
  /** Processes: desiredCount x scale. */
  count: number;
  /** Where the processes' log files go. */
  stateDir: string;
}

export interface TaskRecord {
  pid: number;
  token: string;
  url: string;
  logFile: string;
}

export interface TaskSetState extends TaskSetInputs {
  taskSetId: string;
  tasks: TaskRecord[];
  targets: string[];
  /** As last seen by create or refresh. */
  runningTasks: number;
}

export interface LoadBalancerInputs {
  stack: string;
  /** Part of the local ARNs. */
  name: string;
  /** 0 picks a free port at create; the port is kept afterwards. */
  listenPort: number;
  /** Length of the balancer's metrics buckets (ms). */
  metricsIntervalMs: number;
  stateDir: string;
  weights: ColorWeights;
  targets: Record<Color, string[]>;
  /** Target group stickiness of the weighted rule; 0 (or absent in older state): off. */
  stickinessSeconds?: number;
  /** Requests carrying the header go to this colour only; absent: no header route. */
  headerRoute?: HeaderRoute;
}

export interface LoadBalancerState extends LoadBalancerInputs {
  balancerId: string;
  pid: number;
  token: string;
  logFile: string;
  port: number;
  adminPort: number;
  url: string;
  adminUrl: string;
  /** Target group ARN suffix per colour (the balancer's group ids). */
  targetGroups: Record<Color, string>;
  /** What the balancer reported after the last change, not what was asked for. */
  applied: AppliedRouting;
  running: boolean;
}
