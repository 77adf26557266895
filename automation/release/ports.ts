import { StackOutputs } from "../../infra/contract/outputs";
import { Step } from "./plan";
import { ReleaseState } from "./state";

export interface GateContext {
  release: ReleaseState;
  step: Step;
  stepIndex: number;
  outputs: StackOutputs;
  now: number;
  /** Time since the step's weight was applied. */
  elapsedMs: number;
}

export type GateVerdict = "pass" | "fail" | "inconclusive";

export interface GateResult {
  gate: string;
  verdict: GateVerdict;
  /** One line with the numbers behind the verdict. */
  reason: string;
  details?: unknown;
}

/** An automated check of the canary between steps. */
export interface Gate {
  readonly name: string;
  /**
   * How late this gate's data arrives, in ms (e.g. the metrics gate: the source's settle delay
   * plus one interval). A step may stay inconclusive this much longer before it rolls back.
   */
  readonly dataDelayMs?: number;
  check(ctx: GateContext): Promise<GateResult>;
}

/** A person's go/no-go: "unavailable" when nobody can be asked now (no terminal). */
export interface Approver {
  ask(ctx: GateContext): Promise<"approved" | "rejected" | "unavailable">;
}
