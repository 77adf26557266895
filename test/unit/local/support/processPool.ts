import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  startDetached,
  StartedProcess,
  stopProcess,
} from "../../../../infra/local/providers/childProcesses";
import { requestJson } from "../../../../infra/local/shared/httpJson";

const LOCAL = path.join(__dirname, "..", "..", "..", "..", "infra", "local");
export const SERVICE_SCRIPT = path.join(LOCAL, "sampleService", "main.js");
export const BALANCER_SCRIPT = path.join(LOCAL, "balancer", "main.js");

export interface ServiceKnobs {
  errorRate?: number;
  latencyMs?: number;
  drainMs?: number;
  crashAfterMs?: number;
}

/** Real local processes for one test file; `stopAll` in an after hook leaves none behind. */
export class ProcessPool {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "ecs-canary-test-"));
  readonly started: StartedProcess[] = [];
  private count = 0;

  async start(
    script: string,
    args: string[],
    env: Record<string, string> = {},
  ): Promise<StartedProcess> {
    const n = this.count++;
    const started = await startDetached({
      script,
      args,
      env,
      token: `ecs-canary-test/${process.pid}/${path.basename(this.dir)}/${n}`,
      logFile: path.join(this.dir, `${n}-${path.basename(script, ".js")}.log`),
      readyTimeoutMs: 10_000,
    });
    this.started.push(started);
    return started;
  }

  /** A sample service on a free port; resolves to its base URL and process. */
  async service(
    version: string,
    knobs: ServiceKnobs = {},
  ): Promise<{ url: string; proc: StartedProcess }> {
    const proc = await this.start(SERVICE_SCRIPT, [], {
      APPVERSION: version,
      PORT: "0",
      ERROR_RATE: String(knobs.errorRate ?? 0),
      LATENCY_MS: String(knobs.latencyMs ?? 0),
      DRAIN_MS: String(knobs.drainMs ?? 5000),
      CRASH_AFTER_MS: String(knobs.crashAfterMs ?? 0),
    });
    return { url: `http://127.0.0.1:${proc.ports.port}`, proc };
  }

  async balancer(
    args: string[] = [],
  ): Promise<{ url: string; adminUrl: string; proc: StartedProcess }> {
    const proc = await this.start(BALANCER_SCRIPT, [
      "--port=0",
      "--health-interval-ms=100",
      ...args,
    ]);
    return {
      url: `http://127.0.0.1:${proc.ports.port}`,
      adminUrl: `http://127.0.0.1:${proc.ports.adminPort}`,
      proc,
    };
  }

  async stop(proc: StartedProcess, graceMs = 5000): Promise<void> {
    await stopProcess(proc.pid, proc.token, graceMs);
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.started.map((p) => stopProcess(p.pid, p.token, 0)));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function putRule(
  adminUrl: string,
  groups: { id: string; weight: number; targets: string[] }[],
): Promise<{ status: number; body: unknown }> {
  return requestJson("PUT", `${adminUrl}/config`, { groups });
}
