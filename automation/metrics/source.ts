import { Color } from "../../infra/config";
import { Interval } from "../judge/types";

export interface MetricsWindow {
  /** Start of the first interval wanted (epoch ms, inclusive). */
  from: number;
  /** End of the window (epoch ms, exclusive); only whole intervals ending by then are returned. */
  to: number;
  stableColor: Color;
  canaryColor: Color;
}

/**
 * Live per-target-group metrics, one interval a minute, mapped to stable and
 * canary. Minutes in which a group served no request have `requests: 0`.
 */
export interface MetricsSource {
  readonly description: string;
  intervals(window: MetricsWindow): Promise<Interval[]>;
}
