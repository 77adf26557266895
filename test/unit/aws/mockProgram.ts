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
}

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
    default:
      return {};
  }
}

/** Inputs that the installed @pulumi/aws and @pulumi/awsx typings do not allow. */
const violations: SchemaViolation[] = [];
/** Dependencies of the registration in flight, by `type::name`: the mocks' arguments omit them. */
const pendingDependencies = new Map<string, string[]>();

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
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
        const dependencies = pendingDependencies.get(key) ?? [];
        pendingDependencies.delete(key);
        registered.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          state,
          dependencies,
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
  // setMocks installs its monitor synchronously; wrap it to read each request's dependencies.
  const monitor = runtimeSettings.getMonitor() as unknown as {
    registerResource(request: RegisterRequest, callback: unknown): void;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) => {
    const key = `${request.getType()}::${request.getName()}`;
    pendingDependencies.set(key, request.getDependenciesList());
    register(request, callback);
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
