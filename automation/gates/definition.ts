import { StackOutputs } from "../../infra/contract/outputs";
import { formatDuration, parseDuration } from "../release/duration";
import { UsageError } from "../release/errors";
import { Gate } from "../release/ports";

/** How a flag's value is typed: yargs parses it so, and a gates file must give it so. */
export type FlagType = "boolean" | "string" | "number";

type ValueOf<T extends FlagType> = T extends "boolean"
  ? boolean
  : T extends "number"
    ? number
    : string;

/**
 * One setting of a gate: the flag `--max-error-rate` on the command line, the key `maxErrorRate`
 * in a gates file (the flag's yargs name).
 */
export interface Flag<T extends FlagType = FlagType> {
  type: T;
  /** Help text; `{default}` stands for the default. */
  describe: string;
  /** The value when neither the command line nor a gates file gives one. */
  default?: ValueOf<T>;
}

/** A flag whose default has the flag's type. */
export type AnyFlag = Flag<"boolean"> | Flag<"string"> | Flag<"number">;

/** Flags by their gates-file key, in the order of the help text. */
export type Flags = Readonly<Record<string, AnyFlag>>;

/** The values given for some flags: a gates file's, overridden key by key by the command line's. */
export type FlagValues<F extends Flags> = { [K in keyof F]?: ValueOf<F[K]["type"]> };

/**
 * A gate: what a gate module exports and automation/gates/registry.ts lists. A release keeps the
 * gate's settings (under its name in `gates`) so that a resumed run judges alike.
 */
export interface GateDefinition<N extends string, F extends Flags, S> {
  /** Its name in reports and the plan, and the key of its settings in a release's `gates`. */
  name: N;
  flags: F;
  /**
   * Its settings from the flags given; undefined when it is off. A bad value throws a UsageError
   * of one line: the flag, the value and what is allowed.
   */
  settings(values: FlagValues<F>): S | undefined;
  /** Runs at every step whatever the flags (bake: its settings are the steps' hold times). */
  always?: boolean;
  /**
   * The automated gate of a release with these settings on a stack with these outputs; absent
   * for a gate a person decides (manual: the release engine asks its approver).
   */
  build?(settings: S, outputs: StackOutputs): Gate;
}

/** The command-line flag of a gates-file key: maxP99 is --max-p99. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The help text of a flag, its default filled in. */
export function helpText(flag: Flag): string {
  return flag.describe.replace("{default}", String(flag.default));
}

/** A number from min to max, never rounded or clamped. */
export function numberIn(key: string, value: number, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(
      `invalid --${flagName(key)} ${String(value)}: must be a number from ${min} to ${max}`,
    );
  }
  return value;
}

/** A count: a whole number from min to max, never rounded. */
export function wholeIn(key: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(
      `invalid --${flagName(key)} ${String(value)}: must be a whole number from ${min} to ${max}`,
    );
  }
  return value;
}

/** A duration in ms. */
export function duration(key: string, raw: string): number {
  return parseDuration(`--${flagName(key)}`, raw);
}

/** A duration with a lower bound: refused below it, never raised to it. */
export function durationAtLeast(key: string, raw: string, minMs: number, why: string): number {
  const ms = duration(key, raw);
  if (ms < minMs) {
    throw new UsageError(
      `invalid --${flagName(key)} "${raw}": must be at least ${formatDuration(minMs)} (${why})`,
    );
  }
  return ms;
}
