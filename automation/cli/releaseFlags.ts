import { ConfigError, parseImage, parseVersion } from "../../infra/contract/settings";
import { parseDuration } from "../release/duration";
import { UsageError } from "../release/errors";
import { parseSteps } from "../release/plan";
import { ReleaseRequest } from "../release/state";
import { GateFlags, gateSettingsFrom } from "./gateFlags";

/** The flags of `rollout` and `plan`, as yargs parses them. */
export interface ReleaseFlags extends GateFlags {
  version: string;
  steps: string;
  bake: string;
  image?: string;
  scaleDownDelay: string;
  keepCanary?: boolean;
}

/**
 * A version or image is one token, checked by the settings' own rule (the driver writes it
 * into the stack's settings): anything else is refused as it was given, never trimmed.
 */
function token(flag: string, raw: unknown, parse: (key: string, raw: string) => string): string {
  if (typeof raw !== "string") {
    throw new UsageError(`invalid ${flag} ${JSON.stringify(raw)}: give it once, as one value`);
  }
  try {
    return parse(flag, raw);
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new UsageError(`invalid ${flag} ${JSON.stringify(raw)}: ${err.allowed}`);
    }
    throw err;
  }
}

/** Builds a release request from the flags; a bad one is refused before the stack is opened. */
export function releaseRequest(flags: ReleaseFlags): ReleaseRequest {
  const version = token("--version", flags.version, parseVersion);
  const image = flags.image === undefined ? undefined : token("--image", flags.image, parseImage);
  const bakeMs = parseDuration("--bake", flags.bake);
  return {
    version,
    steps: parseSteps(flags.steps, bakeMs),
    gates: gateSettingsFrom(flags),
    scaleDownDelayMs: parseDuration("--scale-down-delay", flags.scaleDownDelay),
    ...(image !== undefined ? { image } : {}),
    keepCanary: flags.keepCanary === true,
  };
}
