import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { updateReport } from "./engineEvents";
import { runPulumi } from "./pulumiCli";
import { tagValueMaxFor } from "./releaseTags";
import { StackOutputs } from "../../infra/contract/outputs";
import { errorLine } from "../release/errors";
import { StackPort } from "./port";
import { isAlive, StackLockHolder, stackLockHolder } from "./processes";
import {
  isLocalStack,
  localBackendDir,
  PROJECT_ROOT,
  PULUMI_TOOLS,
  pulumiEnvironment,
} from "./environment";
import {
  describeRecovered,
  NAMESPACE,
  parseSettingsFile,
  reconcile,
  SettingsFile,
  settingsFileText,
} from "./stackSettings";

/** How long an update waits for another one that holds the stack. */
const LOCK_WAIT_MS = 15 * 60_000;

/** A Pulumi CLI failure, reduced to the line that says what went wrong. */
export class PulumiError extends Error {
  constructor(action: string, err: unknown) {
    super(`${action} failed: ${errorLine(err instanceof Error ? err.message : String(err))}`);
    this.name = "PulumiError";
  }
}

async function attempt<T>(action: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new PulumiError(action, err);
  }
}

export interface PulumiStackOptions {
  /** Project directory holding Pulumi.yaml (default: this project). */
  workDir?: string;
  /** Receives the engine's output lines of each update. */
  onOutput?: (text: string) => void;
  /** Cancels a running update (the engine stops it gracefully). */
  signal?: AbortSignal;
  /** Told when a lock left by a dead update is cancelled. */
  onLockCancelled?: (holder: StackLockHolder) => void;
  /** Told (one line) when settings the file has stale are recovered from the last update. */
  onRecovered?: (line: string) => void;
}

/** A stack of this project driven through Pulumi's Automation API. */
export class PulumiStack implements StackPort {
  /** The settings the stack's last update applied, reconciled with the file (read once). */
  private recovered?: Record<string, string>;
  /** Settings this process wrote for its next update. */
  private pending: Record<string, string | undefined> = {};
  /** Tag commands one at a time: the CLI rewrites all of a stack's tags on each set. */
  private tagQueue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly stack: Stack,
    private readonly options: PulumiStackOptions,
    private readonly cli: { command: string; env: Record<string, string>; workDir: string },
  ) {}

  get name(): string {
    return this.stack.name;
  }

  get tagValueMax(): number {
    return tagValueMaxFor(this.cli.env.PULUMI_BACKEND_URL ?? process.env.PULUMI_BACKEND_URL);
  }

  /** Opens a stack; a local-platform stack is created in the project's file backend on first use. */
  static async open(stackName: string, options: PulumiStackOptions = {}): Promise<PulumiStack> {
    const workDir = options.workDir ?? PROJECT_ROOT;
    const envVars = pulumiEnvironment(stackName, process.env, workDir);
    const pulumiBin = path.join(PULUMI_TOOLS, "bin", "pulumi");
    const pulumiCommand = fs.existsSync(pulumiBin)
      ? await PulumiCommand.get({ root: PULUMI_TOOLS, skipVersionCheck: true })
      : await PulumiCommand.get({ skipVersionCheck: true });
    const args = { stackName, workDir };
    const opts = { envVars, pulumiCommand };
    if (isLocalStack(stackName, workDir)) {
      if (envVars.PULUMI_BACKEND_URL === `file://${localBackendDir(workDir)}`) {
        fs.mkdirSync(localBackendDir(workDir), { recursive: true });
      }
      // Creating a stack writes its encryption salt into the tracked settings file: put the file
      // back as it was. The salt stays in the stack's state, where Pulumi finds it again
      // (PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER, set by pulumiEnvironment).
      const file = path.join(workDir, `Pulumi.${stackName}.yaml`);
      const before = fs.existsSync(file) ? fs.readFileSync(file) : undefined;
      try {
        const stack = await attempt(`opening local stack ${stackName}`, () =>
          LocalWorkspace.createOrSelectStack(args, { ...opts, secretsProvider: "passphrase" }),
        );
        return new PulumiStack(stack, options, {
          command: pulumiCommand.command,
          env: envVars,
          workDir,
        });
      } finally {
        if (before === undefined) fs.rmSync(file, { force: true });
        else if (!fs.readFileSync(file).equals(before)) fs.writeFileSync(file, before);
      }
    }
    const stack = await attempt(`selecting stack ${stackName}`, () =>
      LocalWorkspace.selectStack(args, opts),
    );
    return new PulumiStack(stack, options, {
      command: pulumiCommand.command,
      env: envVars,
      workDir,
    });
  }

  /** The tracked settings file, as a person last edited it. */
  private settingsFile(): SettingsFile {
    const file = path.join(this.cli.workDir, `Pulumi.${this.name}.yaml`);
    const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    return parseSettingsFile(text, path.basename(file));
  }

  /**
   * The settings of the stack's last update (keys without namespace), from its history in the
   * backend; undefined if it has none, or was destroyed since.
   */
  private async lastUpdate(): Promise<Record<string, string> | undefined> {
    const history = await attempt(`reading the history of stack ${this.name}`, () =>
      this.stack.history(10, 1, false),
    );
    const last = history.find((h) => h.kind === "update" || h.kind === "destroy");
    if (last === undefined || last.kind === "destroy") return undefined;
    const config: Record<string, string> = {};
    for (const [key, { value }] of Object.entries(last.config ?? {})) {
      if (key.startsWith(`${NAMESPACE}:`)) config[key.slice(NAMESPACE.length + 1)] = value;
    }
    return config;
  }

  async getConfig(): Promise<Record<string, string>> {
    if (this.recovered === undefined) {
      const file = this.settingsFile();
      const { config, recovered } = reconcile(file.config, await this.lastUpdate());
      if (recovered.length > 0) {
        this.options.onRecovered?.(
          describeRecovered(this.name, `Pulumi.${this.name}.yaml`, recovered),
        );
      }
      this.recovered = config;
    }
    const config = { ...this.recovered };
    for (const [key, value] of Object.entries(this.pending)) {
      if (value === undefined) delete config[key];
      else config[key] = value;
    }
    return config;
  }

  async setConfig(values: Record<string, string | undefined>): Promise<void> {
    this.pending = { ...this.pending, ...values };
  }

  /** Writes the settings the next update applies to a file outside the tracked ones. */
  private async updateSettingsFile(): Promise<{ file: string; config: Record<string, string> }> {
    const config = await this.getConfig();
    const dir = path.join(this.cli.workDir, ".pulumi-state", "settings");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `Pulumi.${this.name}.yaml`);
    fs.writeFileSync(file, settingsFileText(this.settingsFile(), config));
    return { file, config };
  }

  private tags<T>(run: () => Promise<T>): Promise<T> {
    const next = this.tagQueue.then(run, run);
    this.tagQueue = next.catch(() => undefined);
    return next;
  }

  listTags(): Promise<Record<string, string>> {
    return this.tags(() =>
      attempt(`reading the tags of stack ${this.name}`, () => this.stack.listTags()),
    );
  }

  setTag(name: string, value: string): Promise<void> {
    return this.tags(() =>
      attempt(`writing tag ${name} of stack ${this.name}`, () => this.stack.setTag(name, value)),
    );
  }

  removeTag(name: string): Promise<void> {
    return this.tags(() =>
      attempt(`removing tag ${name} of stack ${this.name}`, () => this.stack.removeTag(name)),
    );
  }

  /**
   * Runs an update with the settings getConfig gives, from a generated settings file
   * (`--config-file`, outside the tracked files); the update records them in the stack's history.
   * The outputs come from the update's own engine events (`--event-log`), not from further CLI
   * runs. `guard` is called before each attempt; when it throws, no update runs.
   *
   * A lock left by an update whose process died (a driver killed with kill -9 takes its
   * `pulumi up` with it) is cancelled; while another live update holds the stack, this one
   * waits for it.
   */
  async up(guard?: () => Promise<void>): Promise<StackOutputs> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    const { file, config } = await this.updateSettingsFile();
    for (;;) {
      await guard?.();
      try {
        const outputs = await this.runUp(file);
        this.applied(config);
        return outputs;
      } catch (err) {
        const holder = stackLockHolder(err instanceof Error ? err.message : String(err));
        if (holder === undefined || Date.now() > deadline || this.options.signal?.aborted) {
          // A failed update is in the stack's history too, with these settings.
          if (holder === undefined) this.applied(config);
          throw new PulumiError(`update of stack ${this.name}`, err);
        }
        if (holder.host === os.hostname() && !isAlive(holder.pid)) {
          this.options.onLockCancelled?.(holder);
          await attempt(`cancelling the stale lock of stack ${this.name}`, () =>
            this.stack.cancel(),
          );
        } else {
          await new Promise((resolve) => setTimeout(resolve, 2000));
        }
      }
    }
  }

  /** The settings an update ran with are now those of the stack's last update. */
  private applied(config: Record<string, string>): void {
    this.recovered = config;
    this.pending = {};
  }

  /** One `pulumi up` as the Automation API runs it, less the CLI runs it makes afterwards. */
  private async runUp(configFile: string): Promise<StackOutputs> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ecs-canary-up-"));
    const eventLog = path.join(dir, "events.jsonl");
    try {
      // Only what the change needs: no refresh, no separate preview.
      const args = ["up", "--yes", "--skip-preview", "--exec-kind", "auto.local"];
      args.push("--config-file", configFile);
      args.push("--event-log", eventLog, "--stack", this.name);
      await runPulumi(this.cli.command, args, {
        cwd: this.cli.workDir,
        // The CLI offers --event-log only with PULUMI_DEBUG_COMMANDS, as the Automation API sets it.
        env: { PULUMI_DEBUG_COMMANDS: "true", ...this.cli.env },
        onOutput: this.options.onOutput,
        signal: this.options.signal,
      });
      const { outputs } = updateReport(fs.readFileSync(eventLog, "utf8"));
      if (outputs !== undefined) return outputs as unknown as StackOutputs;
      // Outputs the events mask (a secret): read them from the stack.
      const read = await this.outputs();
      if (read === undefined) throw new Error("the update left the stack without outputs");
      return read;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * The stack's outputs in one `pulumi stack output` run (without --show-secrets, which would
   * save the state's encryption salt into the tracked settings file; no output is secret).
   */
  async outputs(): Promise<StackOutputs | undefined> {
    const stdout = await attempt(`reading the outputs of stack ${this.name}`, () =>
      runPulumi(this.cli.command, ["stack", "output", "--json", "--stack", this.name], {
        cwd: this.cli.workDir,
        env: this.cli.env,
      }),
    );
    const outputs = JSON.parse(stdout) as Record<string, unknown>;
    return Object.keys(outputs).length === 0 ? undefined : (outputs as unknown as StackOutputs);
  }
}
