import * as pulumi from "@pulumi/pulumi";
import { INTEGER_SETTINGS, IntegerSetting, parseInteger } from "../contract/settings";

/** Whether an argument is known now: given as a value, not as an Output or a Promise. */
export function isKnown<T>(value: pulumi.Input<T>): value is T {
  return !pulumi.Output.isInstance(value) && !(value instanceof Promise);
}

/**
 * Checks one argument of a component. A value known now is checked now, so that a bad one
 * throws before the component registers anything. An Output or a Promise is checked once it
 * resolves: the check rides in the Input returned, so that a bad value fails the update at the
 * first resource that uses it, which is then not changed.
 */
export function checked<T>(value: pulumi.Input<T>, check: (value: T) => void): pulumi.Input<T> {
  if (isKnown(value)) {
    check(value);
    return value;
  }
  return pulumi.output(value).apply((resolved) => {
    check(resolved as T);
    return resolved;
  }) as pulumi.Output<T>;
}

/** As `checked`, for a rule over two arguments; the check rides in the first one. */
export function checkedWith<T, U>(
  value: pulumi.Input<T>,
  other: pulumi.Input<U>,
  check: (value: T, other: U) => void,
): pulumi.Input<T> {
  if (isKnown(value) && isKnown(other)) {
    check(value, other);
    return value;
  }
  return pulumi.all([value, other]).apply(([v, o]) => {
    check(v as T, o as U);
    return v;
  }) as pulumi.Output<T>;
}

/** An integer argument in a range; the message is the one a setting of that value gets. */
export function integerArg(
  key: string,
  value: pulumi.Input<number>,
  range: { min: number; max: number },
): pulumi.Input<number> {
  return checked(value, (v) => parseInteger(key, String(v), range.min, range.max));
}

/** An argument that is also a setting: its range, and its fallback when absent. */
export function settingArg(
  key: Exclude<IntegerSetting, "metricsSettleSeconds">,
  value: pulumi.Input<number> | undefined,
): pulumi.Input<number> {
  const setting = INTEGER_SETTINGS[key];
  return integerArg(key, value ?? setting.fallback, setting);
}

/** How a list of IDs reads in a message: the ones known now, `?` for the others. */
export function idList(ids: pulumi.Input<string>[]): string {
  return ids.map((id) => (typeof id === "string" ? id : "?")).join(",");
}
