import * as pulumi from "@pulumi/pulumi";
import { parseSettings, Settings } from "./contract/settings";
import { StackOutputs } from "./contract/outputs";
import { LocalCanaryTopology } from "./local/program/topology";

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
  if (settings.platform === "local") {
    return new LocalCanaryTopology("canary", { settings }).outputs;
  }
  // Loaded only for AWS: @pulumi/aws and @pulumi/awsx add most of a second to every local update.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const aws = require("./aws/topology") as typeof import("./aws/topology");
  return new aws.AwsCanaryTopology("canary", { settings }).outputs;
}
