import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { updateReport } from "./engineEvents";
import { runPulumi } from "./pulumiCli";
import { StackOutputs } from "../../infra/contract/outputs";
import { errorLine } from "../release/errors";
import { StackPort } from "./port";
import { isAlive, StackLockHolder, stackLockHolder } from "./processes";
import {
  isLocalStack,
  LOCAL_BACKEND_DIR,
  PROJECT_ROOT,
  PULUMI_TOOLS,
  pulumiEnvironment,
} from "./environment";

const PROJECT = "ecs-canary";
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
}

/** A stack of this project driven through Pulumi's Automation API. */
export class PulumiStack implements StackPort {
  private constructor(
    private readonly stack: Stack,
    private readonly options: PulumiStackOptions,
    private readonly cli: { command: string; env: Record<string, string>; workDir: string },
  ) {}

  get name(): string {
    return this.stack.name;
  }

  /** Opens a stack; a local-platform stack is created in the project's file backend on first use. */
  static async open(stackName: string, options: PulumiStackOptions = {}): Promise<PulumiStack> {
    const workDir = options.workDir ?? PROJECT_ROOT;
    const envVars = pulumiEnvironment(stackName);
    const pulumiBin = path.join(PULUMI_TOOLS, "bin", "pulumi");
    const pulumiCommand = fs.existsSync(pulumiBin)
      ? await PulumiCommand.get({ root: PULUMI_TOOLS, skipVersionCheck: true })
      : await PulumiCommand.get({ skipVersionCheck: true });
    const args = { stackName, workDir };
    const opts = { envVars, pulumiCommand };
    if (isLocalStack(stackName, workDir)) {
      fs.mkdirSync(LOCAL_BACKEND_DIR, { recursive: true });
      const stack = await attempt(`opening local stack ${stackName}`, () =>
        LocalWorkspace.createOrSelectStack(args, { ...opts, secretsProvider: "passphrase" }),
      );
      return new PulumiStack(stack, options, {
        command: pulumiCommand.command,
        env: envVars,
        workDir,
      });
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

  async getConfig(): Promise<Record<string, string>> {
    const all = await attempt(`reading the settings of stack ${this.name}`, () =>
      this.stack.getAllConfig(),
    );
    const config: Record<string, string> = {};
    for (const [key, { value }] of Object.entries(all)) {
      if (key.startsWith(`${PROJECT}:`)) config[key.slice(PROJECT.length + 1)] = value;
    }
    return config;
  }

  async setConfig(values: Record<string, string | undefined>): Promise<void> {
    const set = Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined);
    const removed = Object.entries(values)
      .filter(([, v]) => v === undefined)
      .map(([k]) => `${PROJECT}:${k}`);
    if (set.length > 0) {
      await attempt(`writing settings of stack ${this.name}`, () =>
        this.stack.setAllConfig(
          Object.fromEntries(set.map(([k, value]) => [`${PROJECT}:${k}`, { value }])),
        ),
      );
    }
    if (removed.length > 0) {
      await attempt(`removing settings of stack ${this.name}`, () =>
        this.stack.removeAllConfig(removed),
      );
    }
  }

  /**
   * Runs an update, with `changes` (settings, keys without the project prefix) saved to the
   * stack's settings first by the same `pulumi up --config` run: the CLI writes them before the
   * update starts, so they are durable even when the update fails. The outputs come from the
   * update's own engine events (`--event-log`), not from further CLI runs.
   *
   * A lock left by an update whose process died (a driver killed with kill -9 takes its
   * `pulumi up` with it) is cancelled; while another live update holds the stack, this one
   * waits for it.
   */
  async up(changes: Record<string, string> = {}): Promise<StackOutputs> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        return await this.runUp(changes);
      } catch (err) {
        const holder = stackLockHolder(err instanceof Error ? err.message : String(err));
        if (holder === undefined || Date.now() > deadline || this.options.signal?.aborted) {
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

  /** One `pulumi up` as the Automation API runs it, less the CLI runs it makes afterwards. */
  private async runUp(changes: Record<string, string>): Promise<StackOutputs> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ecs-canary-up-"));
    const eventLog = path.join(dir, "events.jsonl");
    try {
      // Only what the change needs: no refresh, no separate preview.
      const args = ["up", "--yes", "--skip-preview", "--exec-kind", "auto.local"];
      for (const [key, value] of Object.entries(changes)) {
        args.push("--config", `${PROJECT}:${key}=${value}`);
      }
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

  /** The stack's outputs in one `pulumi stack output --show-secrets` run. */
  async outputs(): Promise<StackOutputs | undefined> {
    const stdout = await attempt(`reading the outputs of stack ${this.name}`, () =>
      runPulumi(
        this.cli.command,
        ["stack", "output", "--json", "--show-secrets", "--stack", this.name],
        {
          cwd: this.cli.workDir,
          env: this.cli.env,
        },
      ),
    );
    const outputs = JSON.parse(stdout) as Record<string, unknown>;
    return Object.keys(outputs).length === 0 ? undefined : (outputs as unknown as StackOutputs);
  }
}
