import type * as dynamic from "@pulumi/pulumi/dynamic";
import * as path from "path";
import { COLORS } from "../../contract/settings";
import type { RuleView } from "../balancer/adminApi";
import { isRunning, startDetached, stopProcess } from "./childProcesses";
import { requestJson } from "../shared/httpJson";
import { balancerId, processToken, randomHex, targetGroupArnSuffix } from "../shared/ids";
import { diffLoadBalancer } from "./providerDiffs";
import { LoadBalancerInputs, LoadBalancerState } from "./resourceShapes";
import { AppliedRouting, fromRuleView, Routing, sameRouting, toForwardRule } from "./routing";

/**
 * The load balancer's dynamic provider, run inside Pulumi's provider process:
 * one balancer process; weights and targets are applied through its admin API
 * and read back from it.
 */
const BALANCER_SCRIPT = path.join(__dirname, "..", "balancer", "main.js");
const START_TIMEOUT_MS = 15_000;
const DRAIN_MS = 10_000;

type TargetGroups = LoadBalancerState["targetGroups"];

async function readRouting(adminUrl: string, targetGroups: TargetGroups): Promise<AppliedRouting> {
  const { status, body } = await requestJson("GET", `${adminUrl}/config`);
  if (status !== 200)
    throw new Error(`GET ${adminUrl}/config answered ${status}: ${JSON.stringify(body)}`);
  return fromRuleView(targetGroups, body as RuleView);
}

/** Sends the rule, then reads back what the balancer reports and checks it is what was sent. */
async function applyRouting(
  adminUrl: string,
  targetGroups: TargetGroups,
  routing: Routing,
): Promise<AppliedRouting> {
  const rule = toForwardRule(targetGroups, routing);
  const { status, body } = await requestJson("PUT", `${adminUrl}/config`, rule);
  if (status !== 200) {
    throw new Error(`the balancer refused the rule (${status}): ${JSON.stringify(body)}`);
  }
  const applied = await readRouting(adminUrl, targetGroups);
  if (!sameRouting(routing, applied)) {
    throw new Error(
      `the balancer reports ${JSON.stringify(applied)} after being sent ${JSON.stringify(routing)}`,
    );
  }
  return applied;
}

function desiredRouting(inputs: LoadBalancerInputs): Routing {
  return {
    weights: inputs.weights,
    targets: inputs.targets,
    stickinessSeconds: inputs.stickinessSeconds,
    headerRoute: inputs.headerRoute,
  };
}

async function create(
  inputs: LoadBalancerInputs,
): Promise<dynamic.CreateResult<LoadBalancerState>> {
  const id = balancerId(randomHex(6));
  const token = processToken(inputs.stack, id);
  const started = await startDetached({
    script: BALANCER_SCRIPT,
    args: [
      `--port=${inputs.listenPort}`,
      `--drain-ms=${DRAIN_MS}`,
      `--metrics-interval-ms=${inputs.metricsIntervalMs}`,
    ],
    env: {},
    token,
    logFile: path.join(inputs.stateDir, `${id}.log`),
    readyTimeoutMs: START_TIMEOUT_MS,
  });
  const adminUrl = `http://127.0.0.1:${started.ports.adminPort}`;
  const targetGroups = Object.fromEntries(
    COLORS.map((c) => [c, targetGroupArnSuffix(c, id)]),
  ) as TargetGroups;
  let applied: AppliedRouting;
  try {
    applied = await applyRouting(adminUrl, targetGroups, desiredRouting(inputs));
  } catch (err) {
    await stopProcess(started.pid, token, 0);
    throw err;
  }
  const outs: LoadBalancerState = {
    ...inputs,
    balancerId: id,
    pid: started.pid,
    token,
    logFile: started.logFile,
    port: started.ports.port,
    adminPort: started.ports.adminPort,
    url: `http://127.0.0.1:${started.ports.port}`,
    adminUrl,
    targetGroups,
    applied,
    running: true,
  };
  return { id, outs };
}

async function diff(
  _id: string,
  olds: LoadBalancerState,
  news: LoadBalancerInputs,
): Promise<dynamic.DiffResult> {
  const running = isRunning(olds.pid, olds.token);
  const routing = running
    ? await readRouting(olds.adminUrl, olds.targetGroups).catch(() => undefined)
    : undefined;
  return diffLoadBalancer(olds, news, { running, routing });
}

async function update(
  _id: string,
  olds: LoadBalancerState,
  news: LoadBalancerInputs,
): Promise<dynamic.UpdateResult<LoadBalancerState>> {
  if (!isRunning(olds.pid, olds.token)) {
    throw new Error(
      `the balancer (pid ${olds.pid}) is not running; run the update again to replace it`,
    );
  }
  const applied = await applyRouting(olds.adminUrl, olds.targetGroups, desiredRouting(news));
  return { outs: { ...olds, ...news, applied, running: true } };
}

async function read(
  id: string,
  props: LoadBalancerState,
): Promise<dynamic.ReadResult<LoadBalancerState>> {
  const running = isRunning(props.pid, props.token);
  const applied = running
    ? await readRouting(props.adminUrl, props.targetGroups).catch(() => props.applied)
    : props.applied;
  return { id, props: { ...props, applied, running } };
}

async function remove(_id: string, props: LoadBalancerState): Promise<void> {
  await stopProcess(props.pid, props.token, DRAIN_MS + 1000);
}

export const provider = { create, diff, read, update, delete: remove };
