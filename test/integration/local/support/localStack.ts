import {
  ConfigMap,
  LocalWorkspace,
  OutputMap,
  PulumiCommand,
  Stack,
} from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { StackOutputs } from "../../../../infra/contract/outputs";
import { NODE_COMPILE_CACHE_DIR } from "../../../../automation/stack/environment";

/**
 * A throw-away stack with the settings of Pulumi.local.yaml (plus the given
 * ones) for one test file: a temporary file backend and PULUMI_HOME, the
 * compiled program (run `npm run build` first), the CLI built into
 * .tools/pulumi/bin, and process logs in a temporary folder. `dispose`
 * destroys the stack and removes it with its config file.
 */
export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..", "..", "..");
const PULUMI_ROOT = path.join(REPO_ROOT, ".tools", "pulumi");
const PROJECT = "ecs-canary";

export interface LocalStack {
  readonly stack: Stack;
  readonly stackName: string;
  readonly stateDir: string;
  /** Sets these settings (keys without the project prefix) and runs `pulumi up`. */
  up(settings: Record<string, string>): Promise<{ outputs: StackOutputs; ms: number }>;
  outputs(): Promise<StackOutputs>;
  dispose(): Promise<void>;
}

export function stackOutputs(map: OutputMap): StackOutputs {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, v.value])) as StackOutputs;
}

function configMap(settings: Record<string, string>): ConfigMap {
  return Object.fromEntries(
    Object.entries(settings).map(([k, v]) => [`${PROJECT}:${k}`, { value: v }]),
  );
}

/** The settings of the `local` demo stack (Pulumi.local.yaml), so that the tests start from them. */
async function demoSettings(stack: Stack): Promise<Record<string, string>> {
  const { config = {} } = await stack.workspace.stackSettings("local");
  const prefix = `${PROJECT}:`;
  return Object.fromEntries(
    Object.entries(config)
      .filter(([key, value]) => key.startsWith(prefix) && typeof value === "string")
      .map(([key, value]) => [key.slice(prefix.length), value as string]),
  );
}

export async function createLocalStack(settings: Record<string, string>): Promise<LocalStack> {
  if (!fs.existsSync(path.join(PULUMI_ROOT, "bin", "pulumi"))) {
    throw new Error(`no Pulumi CLI in ${PULUMI_ROOT}/bin; run scripts/setup-pulumi.sh`);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ecs-canary-itest-"));
  const stateDir = path.join(tmp, "processes");
  const backend = path.join(tmp, "backend");
  fs.mkdirSync(backend);
  const stackName = `itest-local-${process.pid}-${Date.now().toString(36)}`;
  const envVars = {
    PULUMI_HOME: path.join(tmp, "home"),
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: "",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PATH: `${path.join(PULUMI_ROOT, "bin")}${path.delimiter}${process.env.PATH ?? ""}`,
    ECS_CANARY_LOCAL_STATE_DIR: stateDir,
    NODE_COMPILE_CACHE: NODE_COMPILE_CACHE_DIR,
  };
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName, workDir: REPO_ROOT },
    {
      envVars,
      pulumiHome: envVars.PULUMI_HOME,
      pulumiCommand: await PulumiCommand.get({ root: PULUMI_ROOT, skipVersionCheck: true }),
    },
  );
  await stack.setAllConfig(configMap({ ...(await demoSettings(stack)), ...settings }));

  return {
    stack,
    stackName,
    stateDir,
    async up(changes) {
      await stack.setAllConfig(configMap(changes));
      const started = Date.now();
      const result = await stack.up();
      return { outputs: stackOutputs(result.outputs), ms: Date.now() - started };
    },
    async outputs() {
      return stackOutputs(await stack.outputs());
    },
    async dispose() {
      try {
        await stack.destroy();
      } finally {
        await stack.workspace.removeStack(stackName, { force: true });
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    },
  };
}
