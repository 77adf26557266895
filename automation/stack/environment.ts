import * as fs from "fs";
import * as path from "path";
import { findProjectRoot, isFile } from "../../infra/contract/projectPaths";

/** The project's root: the nearest folder above this module that holds Pulumi.yaml. */
export const PROJECT_ROOT = findProjectRoot(__dirname, isFile);

/** Where set-up puts the Pulumi CLI built for this machine. */
export const PULUMI_TOOLS = path.join(PROJECT_ROOT, ".tools", "pulumi");

/** The file backend of stacks on the local platform (this machine only). */
export const LOCAL_BACKEND_DIR = path.join(PROJECT_ROOT, ".pulumi-state", "backend");

/** Whether the stack's settings file selects the local platform. */
export function isLocalStack(stackName: string, root = PROJECT_ROOT): boolean {
  const file = path.join(root, `Pulumi.${stackName}.yaml`);
  if (!fs.existsSync(file)) return false;
  return /^\s*ecs-canary:platform:\s*["']?local["']?\s*$/m.test(fs.readFileSync(file, "utf8"));
}

/**
 * Environment for the Pulumi CLI: the project's own binaries first on PATH, and for local
 * stacks a file backend, an empty passphrase unless the user set their own, and no plugin
 * downloads (the local platform needs none; none can be had on an offline machine). AWS
 * stacks keep the user's backend and let the CLI acquire the aws and awsx provider plugins
 * the program needs, as a fresh CI runner must.
 */
export function pulumiEnvironment(
  stackName: string,
  base: NodeJS.ProcessEnv = process.env,
  root = PROJECT_ROOT,
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: `${path.join(PULUMI_TOOLS, "bin")}${path.delimiter}${base.PATH ?? ""}`,
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  if (isLocalStack(stackName, root)) {
    env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION = "true";
    env.PULUMI_BACKEND_URL = base.PULUMI_BACKEND_URL ?? `file://${LOCAL_BACKEND_DIR}`;
    if (
      base.PULUMI_CONFIG_PASSPHRASE === undefined &&
      base.PULUMI_CONFIG_PASSPHRASE_FILE === undefined
    ) {
      env.PULUMI_CONFIG_PASSPHRASE = "";
    }
  }
  return env;
}
