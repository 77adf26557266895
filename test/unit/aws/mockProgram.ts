import * as pulumi from "@pulumi/pulumi";
import * as runtimeSettings from "@pulumi/pulumi/runtime/settings";
import { StackOutputs } from "../../../infra/contract/outputs";
import { canaryProgram } from "../../../infra/program";
import { checkResourceInputs, formatViolation, SchemaViolation } from "./schemaCheck";

/** A resource as the program registered it with the (mocked) engine. */
export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  state: Record<string, unknown>;
  /** URNs of the resources it depends on (dependsOn and the outputs its inputs use). */
  dependencies: string[];
  /** Its URN as the engine makes it: the types of its parents and its own, and its name. */
  urn: string;
  /** Its parent's URN as the engine makes it; empty for a resource of the stack itself. */
  parentUrn: string;
  /** The aliases the program sent with it, as the engine receives them. */
  aliases: AliasSpec[];
}

/**
 * One alias as sent to the engine: a full URN, or the parts that differ from the resource's
 * own (empty: unchanged); `parentUrn` is filled in with the current parent when not given.
 */
export type AliasSpec =
  | { urn: string }
  | {
      name: string;
      type: string;
      stack: string;
      project: string;
      parentUrn: string;
      noParent: boolean;
    };

export const REGION = "eu-west-1";
const ACCOUNT = "123456789012";

const registered: Registered[] = [];

/** What AWS would compute for a resource, given its inputs; the rest echoes the inputs. */
function computedState(type: string, name: string, inputs: Record<string, unknown>) {
  const arn = (service: string, path: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${path}`;
  switch (type) {
    case "aws:lb/loadBalancer:LoadBalancer":
      return {
        arn: arn("elasticloadbalancing", `loadbalancer/app/${name}/50dc6c495c0c9188`),
        arnSuffix: `app/${name}/50dc6c495c0c9188`,
        dnsName: `${name}-1234567890.${REGION}.elb.amazonaws.com`,
      };
    case "aws:lb/targetGroup:TargetGroup":
      return {
        arn: arn("elasticloadbalancing", `targetgroup/${name}/73e2d6bc24d8a067`),
        arnSuffix: `targetgroup/${name}/73e2d6bc24d8a067`,
      };
    case "aws:lb/listener:Listener":
      return { arn: arn("elasticloadbalancing", `listener/app/lb/50dc6c495c0c9188/${name}`) };
    case "aws:lb/listenerRule:ListenerRule":
      return { arn: arn("elasticloadbalancing", `listener-rule/app/lb/50dc6c495c0c9188/${name}`) };
    case "aws:ecs/cluster:Cluster":
      return { arn: arn("ecs", `cluster/${name}-abc`), name: `${name}-abc` };
    case "aws:ecs/service:Service":
      return { name: `${name}-svc` };
    case "aws:ecs/taskDefinition:TaskDefinition":
      return { arn: arn("ecs", `task-definition/${inputs.family}:1`) };
    case "aws:ecs/taskSet:TaskSet":
      return { taskSetId: `ecs-svc/${name}` };
    case "aws:iam/role:Role":
      return { arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, name };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { name: `/ecs/${name}` };
    case "awsx:ec2:Vpc":
      return {
        vpcId: "vpc-new",
        publicSubnetIds: ["subnet-pub-a", "subnet-pub-b"],
        privateSubnetIds: ["subnet-priv-a", "subnet-priv-b"],
      };
    // The local platform's dynamic resources, as their providers report them.
    case "pulumi-nodejs:dynamic/local:TaskSet":
      return { taskSetId: `ts-${name}`, targets: [] };
    case "pulumi-nodejs:dynamic/local:LoadBalancer":
      return {
        balancerId: "lb-0a1b2c3d4e5f",
        url: "http://127.0.0.1:8080",
        adminUrl: "http://127.0.0.1:8081",
        targetGroups: {
          blue: "targetgroup/blue/0a1b2c3d4e5f",
          green: "targetgroup/green/0a1b2c3d4e5f",
        },
        applied: { weights: inputs.weights },
      };
    default:
      return {};
  }
}

/** Inputs that the installed @pulumi/aws and @pulumi/awsx typings do not allow. */
const violations: SchemaViolation[] = [];
/** What the mocks' arguments omit, of the registration in flight, by `type::name`. */
const pending = new Map<
  string,
  { dependencies: string[]; aliases: AliasSpec[]; urn: string; parentUrn: string }
>();
/**
 * The engine's URN of each resource, by the URN the mock monitor gave it. The mock monitor
 * qualifies a child's type with its parent's type only; the engine with the whole chain of
 * parent types (`a$b$c`), and a changed type anywhere in the chain changes the URN.
 */
const engineUrns = new Map<string, string>();

/** The URN the engine gives a resource of `type` and `name` under the parent with `parentUrn`. */
export function engineUrn(parentUrn: string | undefined, type: string, name: string): string {
  const parentType = parentUrn?.split("::")[2];
  const qualified =
    parentType === undefined || parentType === "pulumi:pulumi:Stack"
      ? type
      : `${parentType}$${type}`;
  return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${qualified}::${name}`;
}

interface AliasMessage {
  getUrn(): string;
  getSpec():
    | {
        getName(): string;
        getType(): string;
        getStack(): string;
        getProject(): string;
        getParenturn(): string;
        getNoparent(): boolean;
      }
    | undefined;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
  getAliasesList(): AliasMessage[];
  getParent(): string;
}

function aliasSpec(alias: AliasMessage): AliasSpec {
  const spec = alias.getSpec();
  if (spec === undefined) return { urn: alias.getUrn() };
  const parentUrn = spec.getParenturn();
  return {
    name: spec.getName(),
    type: spec.getType(),
    stack: spec.getStack(),
    project: spec.getProject(),
    parentUrn: parentUrn === "" ? "" : (engineUrns.get(parentUrn) ?? parentUrn),
    noParent: spec.getNoparent(),
  };
}

let mocksSet = false;
function ensureMocks() {
  if (mocksSet) return;
  mocksSet = true;
  void pulumi.runtime.setMocks(
    {
      newResource(args) {
        violations.push(...checkResourceInputs(args.type, args.name, args.inputs));
        const state = { ...args.inputs, ...computedState(args.type, args.name, args.inputs) };
        const key = `${args.type}::${args.name}`;
        const extra = pending.get(key);
        if (extra === undefined) throw new Error(`no request seen for ${key}`);
        pending.delete(key);
        const { dependencies, aliases, urn, parentUrn } = extra;
        registered.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          state,
          dependencies,
          urn,
          parentUrn,
          aliases,
        });
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        if (args.token === "aws:index/getRegion:getRegion") return { region: REGION, name: REGION };
        throw new Error(`unexpected call ${args.token}`);
      },
    },
    "ecs-canary",
    "test",
    false,
  );
  // setMocks installs its monitor synchronously; wrap it to read what each request carries
  // beyond the mocks' arguments, and the URN it is answered with.
  type Callback = (error: unknown, response?: { getUrn(): string }) => void;
  const monitor = runtimeSettings.getMonitor() as unknown as {
    registerResource(request: RegisterRequest, callback: Callback): void;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) => {
    const key = `${request.getType()}::${request.getName()}`;
    const parent = request.getParent();
    const parentUrn = parent === "" ? "" : (engineUrns.get(parent) ?? parent);
    const urn = engineUrn(
      parentUrn === "" ? undefined : parentUrn,
      request.getType(),
      request.getName(),
    );
    pending.set(key, {
      dependencies: request.getDependenciesList(),
      aliases: request.getAliasesList().map(aliasSpec),
      urn,
      parentUrn,
    });
    register(request, (error, response) => {
      if (response !== undefined) engineUrns.set(response.getUrn(), urn);
      callback(error, response);
    });
  };
}

function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

// The SDK's own wait for every outstanding registration (not in its typings).
const settings = runtimeSettings as unknown as { waitForRPCs(): Promise<void> };

export interface ProgramRun {
  outputs: StackOutputs;
  resources: Registered[];
  ofType(type: string): Registered[];
  one(type: string, name?: string): Registered;
}

function setConfig(config: Record<string, string>) {
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [`ecs-canary:${k}`, v])),
  );
}

/** Fails with every registered input that the installed packages' typings do not allow. */
function assertSchema() {
  if (violations.length === 0) return;
  const lines = violations.map(formatViolation);
  violations.length = 0;
  throw new Error(`inputs the provider would refuse:\n  ${lines.join("\n  ")}`);
}

/**
 * Runs `body` under the mocks, waits for its registrations and returns them; fails when an
 * input breaks the installed typings (see schemaCheck).
 */
export async function runUnderMocks<T>(
  body: () => T | Promise<T>,
): Promise<{ result: T; resources: Registered[] }> {
  ensureMocks();
  registered.length = 0;
  violations.length = 0;
  engineUrns.clear();
  const result = await body();
  await settings.waitForRPCs();
  assertSchema();
  return { result, resources: [...registered] };
}

/** Runs the program under mocks with the given stack settings (keys without the project prefix). */
export async function runProgram(config: Record<string, string>): Promise<ProgramRun> {
  setConfig(config);
  const { result: outputs, resources } = await runUnderMocks(() => resolved(canaryProgram()));
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  return {
    outputs,
    resources,
    ofType,
    one(type: string, name?: string) {
      const found = ofType(type).filter((r) => name === undefined || r.name === name);
      if (found.length !== 1) {
        throw new Error(`expected one ${type}${name ? ` ${name}` : ""}, found ${found.length}`);
      }
      return found[0];
    },
  };
}

/** Runs the program expecting it to refuse the settings; returns the error and what got registered. */
export async function runProgramExpectingError(
  config: Record<string, string>,
): Promise<{ error: Error; resources: Registered[] }> {
  setConfig(config);
  let error: Error | undefined;
  const { resources } = await runUnderMocks(() => {
    try {
      canaryProgram();
    } catch (thrown) {
      error = thrown as Error;
    }
  });
  if (error === undefined) throw new Error(`the program accepted ${JSON.stringify(config)}`);
  return { error, resources };
}
