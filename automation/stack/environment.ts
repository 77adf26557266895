import * as fs from "fs";
import * as path from "path";
import { load } from "js-yaml";
import { findProjectRoot, isFile } from "../../infra/contract/projectPaths";
import { parseSettings } from "../../infra/contract/settings";
import { errorLine, UsageError } from "../release/errors";

/** The project's root: the nearest folder above this module that holds Pulumi.yaml. */
export const PROJECT_ROOT = findProjectRoot(__dirname, isFile);

/** Where set-up puts the Pulumi CLI built for this machine. */
export const PULUMI_TOOLS = path.join(PROJECT_ROOT, ".tools", "pulumi");

/** The default file backend of a working copy's stacks on the local platform. */
export const localBackendDir = (root: string) => path.join(root, ".pulumi-state", "backend");

/**
 * The working copy a command runs in: the nearest folder at or above `cwd` that holds a
 * Pulumi.yaml, else this project.
 */
export function workingCopy(cwd = process.cwd()): string {
  const found = findProjectRoot(cwd, isFile);
  return isFile(path.join(found, "Pulumi.yaml")) ? found : PROJECT_ROOT;
}

/**
 * Where Node.js 22.1 and later keep the compiled code of the modules that Pulumi's Node.js
 * processes load on every update (the program and the dynamic-provider process each load all of
 * @pulumi/pulumi, TypeScript included, before they do any work): with the cache a module is
 * compiled once, not once per process (https://nodejs.org/api/module.html#module-compile-cache).
 * Older Node.js ignores the variable.
 */
export const NODE_COMPILE_CACHE_DIR = path.join(
  PROJECT_ROOT,
  ".pulumi-state",
  "node-compile-cache",
);

/** The project's namespace of settings in a stack file (`ecs-canary:platform`). */
const NAMESPACE = "ecs-canary";

/**
 * Whether the stack's settings file selects the local platform, read as the program reads it:
 * the file's YAML (parsed with js-yaml, as Pulumi's Automation API reads stack files), the
 * value as Pulumi hands it to the program (a string; other scalars as text), then the
 * contract's rule for `platform` (default aws; anything but aws or local is refused).
 * A stack without a settings file is not local.
 */
export function isLocalStack(stackName: string, root = PROJECT_ROOT): boolean {
  const file = path.join(root, `Pulumi.${stackName}.yaml`);
  if (!fs.existsSync(file)) return false;
  let parsed: unknown;
  try {
    parsed = load(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new UsageError(
      `invalid stack file ${path.basename(file)}: ${errorLine((err as Error).message)}`,
    );
  }
  const config = isMap(parsed) && isMap(parsed.config) ? parsed.config : {};
  const raw = config[`${NAMESPACE}:platform`];
  const platform =
    raw === undefined || raw === null
      ? undefined
      : typeof raw === "string"
        ? raw
        : JSON.stringify(raw);
  // Only the platform: the other settings are checked where they are used.
  return parseSettings((key) => (key === "platform" ? platform : undefined)).platform === "local";
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Environment for the Pulumi CLI: the project's own binaries first on PATH, Node.js's compile
 * cache for the program and provider processes, and for local
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
    // A settings file without an encryption salt (as committed) uses the one in the stack's
    // state instead of minting a new one (pkg/cmd/pulumi/stack/secrets.go, pulumi/pulumi#16412).
    PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER: "true",
    NODE_COMPILE_CACHE: base.NODE_COMPILE_CACHE ?? NODE_COMPILE_CACHE_DIR,
  };
  if (isLocalStack(stackName, root)) {
    env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION = "true";
    env.PULUMI_BACKEND_URL = base.PULUMI_BACKEND_URL ?? `file://${localBackendDir(root)}`;
    if (
      base.PULUMI_CONFIG_PASSPHRASE === undefined &&
      base.PULUMI_CONFIG_PASSPHRASE_FILE === undefined
    ) {
      env.PULUMI_CONFIG_PASSPHRASE = "";
    }
  }
  return env;
}
