import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { canaryProgram } from "../../../infra/program";
import { AWS_CANARY_TOPOLOGY_ALIASES, AwsCanaryTopology } from "../../../infra/aws/topology";
import { CANARY_NETWORK_ALIASES, CanaryNetwork } from "../../../infra/aws/network";
import { WeightedLoadBalancer } from "../../../infra/aws/loadBalancer";
import { ExternalService } from "../../../infra/aws/externalService";
import {
  LOCAL_CANARY_TOPOLOGY_ALIASES,
  LocalCanaryTopology,
} from "../../../infra/local/program/topology";
import { AliasSpec, Registered, runUnderMocks } from "./mockProgram";
import urnsBeforeRename from "./fixtures/urnsBeforeRename.json";

const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/8a4b6a3e-2f1c-4d5e-9b7a-0c1d2e3f4a5b";

/** The configurations whose URNs, as the code before the renames registered them, are the fixture. */
const CONFIGS: Record<keyof typeof urnsBeforeRename, Record<string, string>> = {
  created: {},
  existing: {
    vpcId: "vpc-1",
    subnetIds: "subnet-a,subnet-b",
    albSubnetIds: "subnet-p,subnet-q",
    cluster: "my-cluster",
  },
  https: { certificateArn: CERT },
  local: { platform: "local" },
};

async function register(config: Record<string, string>): Promise<Registered[]> {
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [`ecs-canary:${k}`, v])),
  );
  const { resources } = await runUnderMocks(() => {
    canaryProgram();
  });
  return resources;
}

// URNs: urn:pulumi:<stack>::<project>::<parent types $ type>::<name>
const qualifiedType = (urn: string) => urn.split("::")[2];
const nameOf = (urn: string) => urn.split("::").slice(3).join("::");

function createUrn(name: string, type: string, parentUrn: string | undefined): string {
  const prefix = parentUrn === undefined ? "" : `${qualifiedType(parentUrn)}$`;
  return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${prefix}${type}::${name}`;
}

/**
 * How the engine finds a resource's earlier state: its URN, then the URNs its aliases name,
 * then those its parent's alias implies, as `generateAliases`, `collapseAliasToUrn` and
 * `inheritedChildAlias` in pulumi/pkg/resource/deploy/step_generator.go (v3.274) compute them.
 * `aliased` maps a resource found through an alias to the old URN it was found under.
 */
function candidateUrns(r: Registered, aliased: Map<string, string>): string[] {
  const parent = r.parentUrn === "" ? undefined : r.parentUrn;
  const collapse = (alias: AliasSpec): string => {
    if ("urn" in alias) return alias.urn;
    let aliasParent = alias.parentUrn === "" ? parent : alias.parentUrn;
    if (aliasParent !== undefined) aliasParent = aliased.get(aliasParent) ?? aliasParent;
    if (alias.noParent) aliasParent = undefined;
    return createUrn(alias.name || r.name, alias.type || r.type, aliasParent);
  };
  const inherited = (type: string, name: string, parentAlias: string) => {
    const parentName = nameOf(parent as string);
    const aliasName = name.startsWith(parentName)
      ? nameOf(parentAlias) + name.slice(parentName.length)
      : name;
    return createUrn(aliasName, type, parentAlias);
  };
  const own = r.aliases.map(collapse);
  const parentAlias = parent === undefined ? undefined : aliased.get(parent);
  const fromParent =
    parentAlias === undefined
      ? []
      : [
          inherited(r.type, r.name, parentAlias),
          ...own.map((urn) =>
            inherited(qualifiedType(urn).split("$").pop()!, nameOf(urn), parentAlias),
          ),
        ];
  return [r.urn, ...own, ...fromParent];
}

describe("type tokens named after the classes, with aliases (Pulumi mocks)", function () {
  this.timeout(60_000);

  for (const [config, before] of Object.entries(urnsBeforeRename)) {
    it(`a stack deployed before the renames (${config}) finds every resource again: none created, none deleted`, async () => {
      const resources = await register(CONFIGS[config as keyof typeof CONFIGS]);
      const old = new Set(before);
      const aliased = new Map<string, string>();
      const found: string[] = [];
      for (const r of resources) {
        const match = candidateUrns(r, aliased).find((urn) => old.has(urn));
        expect(match, `earlier state of ${r.urn}`).to.not.equal(undefined);
        if (match !== r.urn) aliased.set(r.urn, match as string);
        expect(found, "claimed by one resource only").to.not.include(match);
        found.push(match as string);
      }
      expect(found.sort()).to.deep.equal([...before].sort());
      // The renames are real: the components were found through their aliases.
      expect(aliased.size).to.be.greaterThan(0);
    });
  }

  it("registers each component under ecs-canary:<platform>:<its class name>, sending its earlier type as an alias", async () => {
    const aws = await register({});
    const local = await register({ platform: "local" });
    const component = (resources: Registered[], type: string) => {
      const found = resources.filter((r) => r.type === type);
      expect(found, type).to.have.length(1);
      return found[0];
    };
    const cases: [Registered[], string, { name: string }, pulumi.Alias[]][] = [
      [aws, "aws", AwsCanaryTopology, AWS_CANARY_TOPOLOGY_ALIASES],
      [aws, "aws", CanaryNetwork, CANARY_NETWORK_ALIASES],
      [aws, "aws", WeightedLoadBalancer, []],
      [aws, "aws", ExternalService, []],
      [local, "local", LocalCanaryTopology, LOCAL_CANARY_TOPOLOGY_ALIASES],
    ];
    for (const [resources, platform, cls, aliases] of cases) {
      const registered = component(resources, `ecs-canary:${platform}:${cls.name}`);
      expect(
        registered.aliases.map((a) => ("type" in a ? a.type : a.urn)),
        cls.name,
      ).to.deep.equal(aliases.map((a) => (a as { type: string }).type));
    }
    expect(AWS_CANARY_TOPOLOGY_ALIASES).to.deep.equal([{ type: "ecs-canary:aws:CanaryTopology" }]);
    expect(CANARY_NETWORK_ALIASES).to.deep.equal([{ type: "ecs-canary:aws:Network" }]);
    expect(LOCAL_CANARY_TOPOLOGY_ALIASES).to.deep.equal([
      { type: "ecs-canary:local:CanaryTopology" },
    ]);
  });
});
