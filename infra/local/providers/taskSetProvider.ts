import type * as dynamic from "@pulumi/pulumi/dynamic";
import * as path from "path";
import { isRunning, logTail, startDetached, StartedProcess, stopProcess } from "./childProcesses";
import { healthCheck } from "../shared/httpJson";
import { processToken, randomHex, taskSetId } from "../shared/ids";
import { diffTaskSet } from "./providerDiffs";
import { TaskRecord, TaskSetInputs, TaskSetState } from "./resourceShapes";

/**
 * The task set's dynamic provider, run inside Pulumi's provider process: a task
 * set is `count` sample-service processes on free loopback ports.
 */
const SERVICE_SCRIPT = path.join(__dirname, "..", "sampleService", "main.js");
const START_TIMEOUT_MS = 15_000;
const HEALTHY_TIMEOUT_MS = 15_000;
/** Health checks in a row a new task must pass (as an ALB target group's healthy threshold). */
const HEALTHY_PASSES = 2;
const CHECK_PAUSE_MS = 50;

/** In-flight requests get the service's own latency plus this to finish. */
function drainMs(inputs: TaskSetInputs): number {
  return inputs.latencyMs + 5000;
}

function taskRecord(started: StartedProcess): TaskRecord {
  return {
    pid: started.pid,
    token: started.token,
    url: `http://127.0.0.1:${started.ports.port}`,
    logFile: started.logFile,
  };
}

async function stopTasks(tasks: readonly TaskRecord[], graceMs: number): Promise<void> {
  await Promise.all(tasks.map((t) => stopProcess(t.pid, t.token, graceMs)));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Resolves once the task has passed `HEALTHY_PASSES` health checks in a row; fails at once when
 * its process is gone (a task that crashes on start), or after `HEALTHY_TIMEOUT_MS`.
 */
async function waitForHealthyTask(task: TaskRecord, index: number): Promise<void> {
  const deadline = Date.now() + HEALTHY_TIMEOUT_MS;
  let passes = 0;
  let status = 0;
  for (;;) {
    if (!isRunning(task.pid, task.token)) {
      const tail = logTail(task.logFile);
      throw new Error(
        `task ${index} (pid ${task.pid}) exited before it became healthy (log ${task.logFile})${tail ? `:\n${tail}` : ""}`,
      );
    }
    status = await healthCheck(task.url, 1000);
    passes = status === 200 ? passes + 1 : 0;
    if (passes >= HEALTHY_PASSES) return;
    if (Date.now() >= deadline) {
      throw new Error(
        `task ${index} (${task.url}) did not pass ${HEALTHY_PASSES} health checks in a row within ${HEALTHY_TIMEOUT_MS} ms (last status ${status || "none"}; log ${task.logFile})`,
      );
    }
    await sleep(CHECK_PAUSE_MS);
  }
}

function runningCount(tasks: readonly TaskRecord[] | undefined): number {
  return Array.isArray(tasks) ? tasks.filter((t) => isRunning(t.pid, t.token)).length : 0;
}

async function create(inputs: TaskSetInputs): Promise<dynamic.CreateResult<TaskSetState>> {
  const id = taskSetId(inputs.color, randomHex(4));
  const starts = await Promise.allSettled(
    Array.from({ length: inputs.count }, (_, i) =>
      startDetached({
        script: SERVICE_SCRIPT,
        args: [],
        env: {
          APPVERSION: inputs.version,
          HOST: "127.0.0.1",
          PORT: "0",
          ERROR_RATE: String(inputs.errorRate),
          LATENCY_MS: String(inputs.latencyMs),
          CRASH_AFTER_MS: String(inputs.crashAfterMs ?? 0),
          DRAIN_MS: String(drainMs(inputs)),
        },
        token: processToken(inputs.stack, id, i),
        logFile: path.join(inputs.stateDir, `${id}-${i}.log`),
        readyTimeoutMs: START_TIMEOUT_MS,
      }),
    ),
  );
  const tasks = starts.flatMap((s) => (s.status === "fulfilled" ? [taskRecord(s.value)] : []));
  try {
    const failed = starts.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
    await Promise.all(tasks.map((t, i) => waitForHealthyTask(t, i)));
  } catch (err) {
    await stopTasks(tasks, 0);
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`task set ${inputs.color} version ${inputs.version} did not start: ${reason}`);
  }
  const targets = tasks.map((t) => t.url);
  return { id, outs: { ...inputs, taskSetId: id, tasks, targets, runningTasks: tasks.length } };
}

async function diff(
  _id: string,
  olds: TaskSetState,
  news: TaskSetInputs,
): Promise<dynamic.DiffResult> {
  return diffTaskSet(olds, news, runningCount(olds.tasks) === olds.tasks.length);
}

async function read(id: string, props: TaskSetState): Promise<dynamic.ReadResult<TaskSetState>> {
  return { id, props: { ...props, runningTasks: runningCount(props.tasks) } };
}

/** Only inputs that do not replace the task set (where logs go) reach an update. */
async function update(
  _id: string,
  olds: TaskSetState,
  news: TaskSetInputs,
): Promise<dynamic.UpdateResult<TaskSetState>> {
  return { outs: { ...olds, stack: news.stack, stateDir: news.stateDir } };
}

async function remove(_id: string, props: TaskSetState): Promise<void> {
  await stopTasks(props.tasks ?? [], drainMs(props) + 1000);
}

export const provider = { create, diff, read, update, delete: remove };
