import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import { expect } from "chai";
import { StackOutputs } from "../../../infra/contract/outputs";
import { CliRun, startCli } from "../../support/spawnCli";
import { PROJECT_ROOT, PULUMI_TOOLS } from "../../../automation/stack/environment";

/** A finished driver run: exit code, the JSON events it printed, and its stderr. */
export type DriverRun = CliRun;

type Event = DriverRun["events"][number];

/** The purposes of the updates a run made, e.g. "step 2/3: 40% to 1.0.2". */
export const updates = (events: Event[]) =>
  events.filter((e) => e.type === "update-started").map((e) => e.purpose as string);

/**
 * Whether step `stepIndex` (0-based) is baking with its start recorded: the run reported a
 * second gate check of it, and a step's start is written before its first wait.
 */
export const baking = (events: Event[], stepIndex: number) =>
  events.filter(
    (e) => e.type === "gates" && (e.release as { stepIndex: number }).stepIndex === stepIndex,
  ).length >= 2;

export const outcome = (events: Event[]) =>
  (
    events.find((e) => e.type === "outcome") as
      | { outcome: { kind: string; message: string } }
      | undefined
  )?.outcome;

export interface Status {
  outputs: StackOutputs;
  release: {
    status: string;
    version: string;
    stepIndex: number;
    phase: string;
    outcome?: string;
  } | null;
}

/** What `ecs-canary status` reports: the stack's outputs and its release. */
export async function statusOf(stack: DriverStack): Promise<Status> {
  const run = await stack.run(["status"]);
  expect(run.code, run.stderr).to.equal(0);
  return run.events[0] as unknown as Status;
}

/** Settings of the tests' stacks: one task per colour, both on 1.0.0. */
const ONE_TASK_EACH = { blueVersion: "1.0.0", greenVersion: "1.0.0", desiredCount: "1" };

/**
 * For a describe block: returns a function that deploys a new stack at weight 0 (one task per
 * colour, both on 1.0.0, plus `settings`), and destroys that stack after each test.
 */
export function deployedStacks(): (settings?: Record<string, string>) => Promise<DriverStack> {
  let stack: DriverStack | undefined;
  afterEach(async () => {
    await stack?.dispose();
    stack = undefined;
  });
  return async (settings = {}) => {
    stack = new DriverStack({ ...ONE_TASK_EACH, ...settings });
    const first = await stack.run(["set-weight", "0"]);
    expect(first.code, first.stderr).to.equal(0);
    return stack;
  };
}

/**
 * A throw-away local stack driven by the real `ecs-canary` CLI as a child
 * process: its own settings file in the project, a temporary file backend,
 * and process logs in a temporary folder. `dispose` destroys and removes it.
 */
export class DriverStack {
  readonly name = `itest-driver-${process.pid}-${Date.now().toString(36)}`;
  readonly tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ecs-canary-driver-"));
  readonly env: Record<string, string>;
  private readonly configFile: string;

  constructor(settings: Record<string, string>) {
    fs.mkdirSync(path.join(this.tmp, "backend"));
    this.env = {
      PULUMI_BACKEND_URL: `file://${path.join(this.tmp, "backend")}`,
      PULUMI_CONFIG_PASSPHRASE: "",
      ECS_CANARY_LOCAL_STATE_DIR: path.join(this.tmp, "processes"),
    };
    this.configFile = path.join(PROJECT_ROOT, `Pulumi.${this.name}.yaml`);
    const lines = Object.entries({ platform: "local", ...settings }).map(
      ([k, v]) => `  ecs-canary:${k}: ${JSON.stringify(v)}`,
    );
    fs.writeFileSync(this.configFile, `config:\n${lines.join("\n")}\n`);
  }

  /** Starts `ecs-canary <args> --stack <this> --json`. */
  start(args: string[]) {
    return startCli([...args, "--stack", this.name], { env: this.env });
  }

  run(args: string[]): Promise<DriverRun> {
    return this.start(args).done;
  }

  /** Settings as the stack file holds them now. */
  config(): string {
    return fs.readFileSync(this.configFile, "utf8");
  }

  /** Changes settings as a person would with `pulumi config set`; runs no update. */
  async setConfig(values: Record<string, string>): Promise<void> {
    const stack = await this.workspaceStack();
    await stack.setAllConfig(
      Object.fromEntries(
        Object.entries(values).map(([k, v]) => [`ecs-canary:${k}`, { value: v, secret: false }]),
      ),
    );
  }

  /**
   * A person's `pulumi config set ...` then a bare `pulumi up`: the driver takes the settings it
   * owns (colours, versions, weight, scale) from the stack's last update, so a change of those
   * outside the driver is an update of its own.
   */
  async upAsPerson(values: Record<string, string>): Promise<void> {
    await this.setConfig(values);
    await (await this.workspaceStack()).up({ refresh: false });
  }

  private async workspaceStack() {
    return LocalWorkspace.selectStack(
      { stackName: this.name, workDir: PROJECT_ROOT },
      {
        envVars: { ...this.env, PATH: `${path.join(PULUMI_TOOLS, "bin")}:${process.env.PATH}` },
        pulumiCommand: await PulumiCommand.get({ root: PULUMI_TOOLS, skipVersionCheck: true }),
      },
    );
  }

  async dispose(): Promise<void> {
    try {
      const stack = await this.workspaceStack();
      await stack.destroy();
      await stack.workspace.removeStack(this.name, { force: true });
    } finally {
      fs.rmSync(this.configFile, { force: true });
      fs.rmSync(this.tmp, { recursive: true, force: true });
    }
  }
}

/**
 * Sends GET requests one after another, `pauseMs` apart, until stopped; counts answers by status
 * and body. The pause (instead of as many requests as the CPU allows) leaves the engine and the
 * test files running meanwhile their CPU, and makes the default `maxRequests` last at least
 * 100 s, most or all of a release; a gap in service longer than a few milliseconds is still seen.
 */
export class SteadyClient {
  /** Requests without an answer (refused, reset, timed out). */
  unanswered = 0;
  /** Answers by "<status> <body>", e.g. "200 Hello World! Version: 1.0.0". */
  readonly answers = new Map<string, number>();
  private running = true;
  private readonly loop: Promise<void>;

  constructor(url: string, maxRequests = 20_000, pauseMs = 5) {
    this.loop = (async () => {
      for (let i = 0; this.running && i < maxRequests; i++) {
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
          const key = `${res.status} ${(await res.text()).trim()}`;
          this.answers.set(key, (this.answers.get(key) ?? 0) + 1);
        } catch {
          this.unanswered++;
        }
        if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    })();
  }

  count(status: number, version: string): number {
    let n = 0;
    for (const [key, count] of this.answers) {
      if (key.startsWith(`${status} `) && key.endsWith(`Version: ${version}`)) n += count;
    }
    return n;
  }

  /** Answers with this status, whoever gave them. */
  countStatus(status: number): number {
    let n = 0;
    for (const [key, count] of this.answers) if (key.startsWith(`${status} `)) n += count;
    return n;
  }

  total(): number {
    return [...this.answers.values()].reduce((a, b) => a + b, 0) + this.unanswered;
  }

  async stop(): Promise<this> {
    this.running = false;
    await this.loop;
    return this;
  }
}

/**
 * Checks a run started right after a lease holder was killed. While the lease holds, it is
 * refused (exit 5) naming the holder; returns true. On a machine so loaded that the holder's
 * heartbeats (each two `pulumi` CLI runs) had fallen more than the expiry behind when
 * the run read the lease, the run takes it over at once, and must say that the holder's last
 * heartbeat was at least the expiry ago; returns false. A takeover of a lease that still held
 * fails either way.
 */
export function refusedWhileHeld(run: DriverRun, expiryMs: number): boolean {
  if (run.code === 5) {
    expect(run.stderr).to.match(/a driver holds stack itest-\S+: `ecs-canary rollout`/);
    return true;
  }
  const taken = /took over the lease of stack \S+: .* last heartbeat (\d+)s ago/.exec(run.stderr);
  expect(taken, `exit ${run.code}: ${run.stderr}`).to.not.equal(null);
  expect(Number(taken![1]) * 1000, "the holder's last heartbeat, seconds ago").to.be.at.least(
    expiryMs,
  );
  return false;
}

export function waitFor<T>(
  what: string,
  check: () => T | undefined,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      const value = check();
      if (value !== undefined) return resolve(value);
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 100);
    };
    tick();
  });
}
