import * as pulumi from "@pulumi/pulumi";
import { parseSettings, Settings } from "./config";
import { StackOutputs } from "./outputs";
import { AwsCanaryTopology } from "./aws/topology";
import { LocalCanaryTopology } from "./local/topology";

/** Reads the stack's settings through Pulumi config; throws ConfigError before any resource. */
export function readSettings(): Settings {
  const config = new pulumi.Config();
  return parseSettings((key) => config.get(key));
}

/**
 * The whole program. Exported as a function so that unit tests can run it
 * once per configuration in one process (a module's top level runs only once).
 */
export function canaryProgram(): pulumi.Output<StackOutputs> {
  const settings = readSettings();
  const topology =
    settings.platform === "local"
      ? new LocalCanaryTopology("canary", { settings })
      : new AwsCanaryTopology("canary", { settings });
  return topology.outputs;
}
