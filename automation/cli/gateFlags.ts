import * as fs from "fs";
import { Argv, Options } from "yargs";
import { flagName, helpText } from "../gates/definition";
import {
  GATE_FLAGS,
  GateFlagValues,
  gateSettingsFor,
  RegistryGateSettings,
} from "../gates/registry";
import { UsageError } from "../release/errors";

/** The gate flags of `rollout` and `plan`, as yargs parses them. */
export type GateFlags = { gates?: string } & GateFlagValues;

/** The gate options of a command: a gates file, then every gate flag of the registry. */
export function withGateOptions<T>(y: Argv<T>): Argv<T & GateFlags> {
  const options: Record<string, Options> = {
    gates: {
      type: "string",
      describe: "JSON file with gate settings (same names as the flags); flags override it",
    },
  };
  for (const [key, flag] of Object.entries(GATE_FLAGS)) {
    options[flagName(key)] = { type: flag.type, describe: helpText(flag) };
  }
  // yargs infers no types for options listed at run time: these are GateFlags by construction.
  return y.options(options) as unknown as Argv<T & GateFlags>;
}

/** What a gates file may hold: the same settings as the flags, by the keys of the registry. */
function readGatesFile(file: string): GateFlagValues {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`invalid --gates "${file}": ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new Error("not an object");
    const allowed = Object.keys(GATE_FLAGS);
    const unknown = Object.keys(parsed).filter((k) => !Object.hasOwn(GATE_FLAGS, k));
    if (unknown.length > 0) {
      throw new Error(`unknown key ${unknown[0]}; allowed: ${allowed.join(", ")}`);
    }
    for (const [key, value] of Object.entries(parsed)) {
      const kind = GATE_FLAGS[key].type;
      if (typeof value !== kind)
        throw new Error(`${key} must be a ${kind}, got ${JSON.stringify(value)}`);
    }
    return parsed as GateFlagValues;
  } catch (err) {
    throw new UsageError(`invalid --gates "${file}": ${(err as Error).message}`);
  }
}

/** Builds a release's gates from a gates file (if any) overridden by flags. */
export function gateSettingsFrom(flags: GateFlags): RegistryGateSettings {
  const values: Record<string, unknown> = { ...(flags.gates ? readGatesFile(flags.gates) : {}) };
  // Only the gate flags: yargs adds the others, and each flag under two names.
  for (const key of Object.keys(GATE_FLAGS)) {
    const value = (flags as Record<string, unknown>)[key];
    if (value !== undefined) values[key] = value;
  }
  return gateSettingsFor(values as GateFlagValues);
}
