import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import { PROJECT_ROOT, PULUMI_TOOLS } from "../../../automation/stack/environment";
import { CliRun, startCli } from "../../support/spawnCli";
import { MOTO_CREDENTIALS, MotoServer, startMotoServer } from "../../support/motoServer";

/** Where a test's stack lives: a folder (file backend) or a bucket on moto's S3 (loopback). */
export interface Backend {
  readonly kind: "file" | "s3";
  readonly url: string;
  /** Environment every command needs to reach it (credentials, passphrase). */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

export async function fileBackend(): Promise<Backend> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ecs-canary-backend-"));
  return {
    kind: "file",
    url: `file://${dir}`,
    env: { PULUMI_CONFIG_PASSPHRASE: "two copies" },
    stop: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

function createBucket(moto: MotoServer, bucket: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${moto.endpoint}/${bucket}`, { method: "PUT" }, (res) => {
      res.resume();
      res.on("end", () =>
        res.statusCode === 200
          ? resolve()
          : reject(new Error(`creating bucket ${bucket}: HTTP ${res.statusCode}`)),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

/** An S3 backend: a bucket on moto's server (path-style addressing, us-east-1). */
export async function s3Backend(): Promise<Backend> {
  const moto = await startMotoServer();
  const bucket = "ecs-canary-state";
  await createBucket(moto, bucket);
  return {
    kind: "s3",
    url: `s3://${bucket}?endpoint=${moto.endpoint}&s3ForcePathStyle=true&region=us-east-1`,
    env: {
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      AWS_REGION: "us-east-1",
      PULUMI_CONFIG_PASSPHRASE: "two copies",
    },
    stop: () => moto.stop(),
  };
}

/** Lease timing for tests: expiry 20 s, heartbeats every 5 s. */
export const TEST_LEASE = {
  ECS_CANARY_LEASE_EXPIRY_MS: "20000",
  ECS_CANARY_LEASE_HEARTBEAT_MS: "5000",
  ECS_CANARY_LEASE_SETTLE_MS: "1500",
};

/**
 * One local stack in a shared backend, and the settings file committed for it. Working copies
 * of it are separate folders that share nothing but the backend; their Pulumi.yaml runs this
 * worktree's build by its absolute path (the local platform's providers load their modules
 * from there: the same build for every copy).
 */
export class SharedStack {
  readonly name = `itest-shared-${process.pid}-${Date.now().toString(36)}`;
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), "ecs-canary-copies-"));
  readonly committed: string;
  readonly env: Record<string, string>;

  constructor(
    readonly backend: Backend,
    settings: Record<string, string>,
  ) {
    const lines = Object.entries({ platform: "local", ...settings }).map(
      ([k, v]) => `  ecs-canary:${k}: ${JSON.stringify(v)}`,
    );
    this.committed = `config:\n${lines.join("\n")}\n`;
    this.env = {
      ...backend.env,
      ...TEST_LEASE,
      PULUMI_BACKEND_URL: backend.url,
      ECS_CANARY_LOCAL_STATE_DIR: path.join(this.root, "processes"),
    };
  }

  /** A new working copy: Pulumi.yaml and the settings file as committed, nothing else. */
  copy(label: string): WorkingCopy {
    const dir = path.join(this.root, label);
    fs.mkdirSync(dir);
    const project = fs
      .readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8")
      .replace(/^main: .*$/m, `main: ${path.join(PROJECT_ROOT, "build", "infra", "index.js")}`);
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), project);
    fs.writeFileSync(path.join(dir, `Pulumi.${this.name}.yaml`), this.committed);
    return new WorkingCopy(this, dir);
  }

  /** Destroys the stack and removes it from the backend, from a copy of its own. */
  async dispose(): Promise<void> {
    try {
      const dir = this.copy(`cleanup-${Date.now()}`).dir;
      const stack = await LocalWorkspace.selectStack(
        { stackName: this.name, workDir: dir },
        {
          envVars: {
            ...this.env,
            PATH: `${path.join(PULUMI_TOOLS, "bin")}:${process.env.PATH}`,
          },
          pulumiCommand: await PulumiCommand.get({ root: PULUMI_TOOLS, skipVersionCheck: true }),
        },
      );
      await stack.destroy();
      await stack.workspace.removeStack(this.name, { force: true });
    } finally {
      fs.rmSync(this.root, { recursive: true, force: true });
    }
  }
}

export class WorkingCopy {
  constructor(
    readonly shared: SharedStack,
    readonly dir: string,
  ) {}

  start(args: string[], env: Record<string, string> = {}) {
    return startCli([...args, "--stack", this.shared.name], {
      cwd: this.dir,
      env: { ...this.shared.env, ...env },
    });
  }

  run(args: string[]): Promise<CliRun> {
    return this.start(args).done;
  }

  /** The settings file as it is now. */
  settingsFile(): string {
    return fs.readFileSync(path.join(this.dir, `Pulumi.${this.shared.name}.yaml`), "utf8");
  }

  /** Files a command left in the copy besides the git-ignored .pulumi-state folder. */
  files(): string[] {
    return fs.readdirSync(this.dir).filter((f) => f !== ".pulumi-state");
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
