/**
 * moto's server (a local AWS API emulator) as a child process on a free loopback port, for
 * integration tests of the AWS adapters. The venv comes from scripts/setup-moto.sh.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";

/** The project root: the nearest folder above this file (compiled or not) with a package.json. */
function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`motoServer: no package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

const ROOT = projectRoot();

export const MOTO_VENV = path.join(ROOT, ".tools", "moto");
export const MOTO_SERVER_BIN = path.join(MOTO_VENV, "bin", "moto_server");
export const MOTO_HOST = "127.0.0.1";

/** Fake credentials: moto accepts any unless told to enforce IAM. */
export const MOTO_CREDENTIALS = { accessKeyId: "testing", secretAccessKey: "testing" };

export interface MotoServerOptions {
  /** Extra environment for the server, e.g. `INITIAL_NO_AUTH_ACTION_COUNT: "0"` to enforce IAM. */
  env?: Record<string, string>;
  /** How long to wait for the server to answer (default 30 s). */
  startTimeoutMs?: number;
}

export interface MotoServer {
  /** `http://127.0.0.1:<port>`, for the SDK clients' `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  /** Forgets every resource and datum the server holds. */
  reset(): Promise<void>;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
}

function request(method: string, url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

export async function startMotoServer(options: MotoServerOptions = {}): Promise<MotoServer> {
  if (!fs.existsSync(MOTO_SERVER_BIN)) {
    throw new Error(
      `moto server not installed: ${MOTO_SERVER_BIN} is missing; run scripts/setup-moto.sh`,
    );
  }
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  // Port 0: the server binds a free port itself and prints it, so no other process can take
  // the port between choosing and binding it.
  const child = spawn(MOTO_SERVER_BIN, ["-H", MOTO_HOST, "-p", "0"], {
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-8000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  let spawnError: Error | undefined;
  child.on("error", (err) => (spawnError = err));

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = exited(child);
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await done;
    clearTimeout(killer);
  };
  const fail = async (why: string): Promise<never> => {
    await stop();
    const tail = output.trim() ? `; its output:\n${output.trim()}` : "";
    throw new Error(`moto server (${MOTO_SERVER_BIN}) ${why}${tail}`);
  };

  const deadline = Date.now() + timeoutMs;
  let port: number | undefined;
  let ready = false;
  while (!ready && Date.now() < deadline) {
    if (spawnError) return fail(`could not start: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      return fail(`exited early (${child.exitCode ?? child.signalCode})`);
    }
    if (port === undefined) {
      const m = /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (m) port = Number(m[1]);
    }
    if (port !== undefined) {
      const status = await request("GET", `http://${MOTO_HOST}:${port}/moto-api/`, 2_000).catch(
        () => 0,
      );
      ready = status === 200;
      if (ready) break;
    }
    await sleep(100);
  }
  if (!ready || port === undefined) {
    return fail(`did not answer on ${MOTO_HOST} within ${timeoutMs} ms`);
  }

  const endpoint = `http://${MOTO_HOST}:${port}`;
  return {
    endpoint,
    port,
    async reset() {
      const status = await request("POST", `${endpoint}/moto-api/reset`, 10_000);
      if (status !== 200) throw new Error(`moto reset at ${endpoint} answered HTTP ${status}`);
    },
    stop,
  };
}
