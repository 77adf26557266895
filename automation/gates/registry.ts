import { StackOutputs } from "../../infra/contract/outputs";
import { Gate } from "../release/ports";
import { GateSettings } from "../release/state";
import { bakeDefinition } from "./bake";
import { AnyFlag, FlagValues, GateDefinition } from "./definition";
import { gateLoop, GateLoopSettings } from "./loop";
import { manualDefinition } from "./manual";
import { metricsDefinition } from "./metrics";
import { probeDefinition } from "./probe";
import { webhookDefinition } from "./webhook";

/**
 * Every gate, in the order of their flags (help text, gates file). The automated gates run in
 * this order, and a release keeps their settings in it; a person (manual) is asked after them.
 * A new gate: its module and one line here.
 */
const GATES = [
  manualDefinition,
  bakeDefinition,
  metricsDefinition,
  probeDefinition,
  webhookDefinition,
] as const;

type Definition = (typeof GATES)[number];
type AnyDefinition = GateDefinition<string, Readonly<Record<string, AnyFlag>>, unknown>;
type SettingsOf<D extends Definition> = Exclude<ReturnType<D["settings"]>, undefined>;
type Intersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void
  ? I
  : never;

/** The values of every gate flag, by gates-file key. */
export type GateFlagValues = Intersection<FlagValues<Definition["flags"]>> &
  FlagValues<typeof gateLoop.flags>;

/** A release's gate settings as the registry writes them: each gate's under its name. */
export type RegistryGateSettings = GateSettings &
  GateLoopSettings & { [D in Definition as D["name"]]?: SettingsOf<D> };

/** Every gate flag and the gate loop's, by gates-file key, in the order of the help text. */
export const GATE_FLAGS: Readonly<Record<string, AnyFlag>> = Object.assign(
  {},
  ...GATES.map((gate) => gate.flags),
  gateLoop.flags,
);

/**
 * A release's gates from the flag values given (a gates file's, overridden by the command
 * line's): each gate that is on, its settings under its name, then the gate loop's settings.
 * A bad value throws a UsageError of one line.
 */
export function gateSettingsFor(values: GateFlagValues): RegistryGateSettings {
  const settings: Record<string, unknown> = {};
  for (const gate of GATES as readonly AnyDefinition[]) {
    const gateSettings = gate.settings(values);
    if (gateSettings !== undefined) settings[gate.name] = gateSettings;
  }
  return { ...settings, ...gateLoop.settings(values) } as RegistryGateSettings;
}

/**
 * The automated gates of a release, in the order they run, from the settings it keeps (written
 * by `gateSettingsFor`) and the stack's outputs.
 */
export function gatesFor(settings: GateSettings, outputs: StackOutputs): Gate[] {
  const gates: Gate[] = [];
  for (const gate of GATES as readonly AnyDefinition[]) {
    const stored = settings[gate.name];
    const on = gate.always === true || (stored !== undefined && stored !== false);
    if (on && gate.build) gates.push(gate.build(stored, outputs));
  }
  return gates;
}
