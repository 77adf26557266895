import * as pulumi from "@pulumi/pulumi";
import { formatCanaryHeader } from "./contract/canaryHeader";
import { parseSettings, Settings } from "./contract/settings";
import { StackOutputs } from "./contract/outputs";
import type { AwsCanaryTopologyArgs } from "./aws/topology";
import { LocalCanaryTopology } from "./local/program/topology";

/** Reads the stack's settings through Pulumi config; throws ConfigError before any resource. */
export function readSettings(): Settings {
  const config = new pulumi.Config();
  return parseSettings((key) => config.get(key));
}

/** The AWS topology's arguments from the stack's settings (the local platform's are not used). */
export function awsTopologyArgs(settings: Settings): AwsCanaryTopologyArgs {
  const { network } = settings;
  return {
    vpc:
      network.vpcId === undefined
        ? "create"
        : {
            vpcId: network.vpcId,
            albSubnetIds: network.albSubnetIds,
            taskSubnetIds: network.subnetIds,
          },
    assignPublicIp: network.assignPublicIp,
    cluster: settings.cluster,
    stableColor: settings.stableColor,
    canaryWeight: settings.canaryWeight,
    canaryScale: settings.canaryScale,
    colors: {
      blue: { image: settings.blue.image, version: settings.blue.version },
      green: { image: settings.green.image, version: settings.green.version },
    },
    desiredCount: settings.desiredCount,
    containerPort: settings.containerPort,
    listenerPort: settings.listenerPort,
    cpu: settings.cpu,
    memory: settings.memory,
    stickinessSeconds: settings.stickinessSeconds,
    canaryHeader: settings.canaryHeader && formatCanaryHeader(settings.canaryHeader),
    deregistrationDelaySeconds: settings.deregistrationDelaySeconds,
    certificateArn: settings.certificateArn,
    metricsSettleSeconds: settings.metricsSettleSeconds,
  };
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
  return new aws.AwsCanaryTopology("canary", awsTopologyArgs(settings)).outputs;
}
