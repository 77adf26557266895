import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import {
  ALB_SUBNETS_ALLOWED,
  ConfigError,
  INTEGER_SETTINGS,
  MIN_ALB_SUBNETS,
} from "../contract/settings";
import { checked, idList, integerArg, settingArg } from "./argChecks";

/** A VPC of yours for the topology. */
export interface ExistingVpcArgs {
  vpcId: pulumi.Input<string>;
  /**
   * Where the internet-facing ALB goes: two or more public subnets (a route to an internet
   * gateway) in different Availability Zones.
   */
  albSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Where the tasks run: private subnets with a route to a NAT gateway, or public ones with
   * `assignPublicIp` (tasks pull their image and write logs over the internet).
   */
  taskSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
}

export interface CanaryNetworkArgs {
  /** `"create"`: a new VPC through awsx (public and private subnets, one NAT gateway). */
  vpc: ExistingVpcArgs | "create";
  /** Tasks get a public IP; in a created VPC they then run in its public subnets. Default false. */
  assignPublicIp?: pulumi.Input<boolean>;
  /** The ports the ALB listens on, each open to every client over IPv4 and IPv6. */
  listenerPorts: pulumi.Input<number>[];
  /** The tasks' port, reachable from the ALB's security group only. */
  containerPort: pulumi.Input<number>;
}

/** Everything out: tasks pull their image and write logs over the internet or VPC endpoints. */
const ALL_EGRESS = [
  { protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] },
] satisfies aws.types.input.ec2.SecurityGroupEgress[];

/** A TCP port open to every client, over IPv4 and IPv6. */
function openToClients(port: pulumi.Input<number>): aws.types.input.ec2.SecurityGroupIngress {
  return {
    protocol: "tcp",
    fromPort: port,
    toPort: port,
    cidrBlocks: ["0.0.0.0/0"],
    ipv6CidrBlocks: ["::/0"],
  };
}

/**
 * The type CanaryNetwork registered before its type token was named after the class. Stacks deployed
 * then find it, and through it all its children, under the new type: the engine combines a
 * parent's aliases with each child's own name and type, so nothing is replaced
 * (https://www.pulumi.com/docs/iac/concepts/resources/options/aliases/).
 */
export const CANARY_NETWORK_ALIASES: pulumi.Alias[] = [{ type: "ecs-canary:aws:Network" }];

/**
 * The VPC (new, through awsx, or one of yours) and the two security groups: the load balancer
 * open on its listener ports, the tasks reachable on the container port from the load balancer
 * only.
 */
export class CanaryNetwork extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly albSubnetIds: pulumi.Output<string[]>;
  readonly taskSubnetIds: pulumi.Output<string[]>;
  readonly albSecurityGroup: aws.ec2.SecurityGroup;
  readonly taskSecurityGroup: aws.ec2.SecurityGroup;

  constructor(name: string, args: CanaryNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    const listenerPorts = checkListenerPorts(args.listenerPorts);
    const containerPort = settingArg("containerPort", args.containerPort);
    const existing = args.vpc === "create" ? undefined : checkExistingVpc(args.vpc);
    super(
      "ecs-canary:aws:CanaryNetwork",
      name,
      {},
      {
        ...opts,
        aliases: [...(opts?.aliases ?? []), ...CANARY_NETWORK_ALIASES],
      },
    );
    const assignPublicIp = args.assignPublicIp ?? false;

    if (existing === undefined) {
      const vpc = new awsx.ec2.Vpc(
        `${name}-vpc`,
        {
          natGateways: { strategy: awsx.ec2.NatGatewayStrategy.Single },
        } satisfies awsx.ec2.VpcArgs,
        { parent: this },
      );
      this.vpcId = vpc.vpcId;
      this.albSubnetIds = vpc.publicSubnetIds;
      this.taskSubnetIds = pulumi
        .all([assignPublicIp, vpc.publicSubnetIds, vpc.privateSubnetIds])
        .apply(([isPublic, publicIds, privateIds]) => (isPublic ? publicIds : privateIds));
    } else {
      this.vpcId = pulumi.output(existing.vpcId);
      this.albSubnetIds = pulumi.output(existing.albSubnetIds);
      this.taskSubnetIds = pulumi.output(existing.taskSubnetIds);
    }

    this.albSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-alb`,
      {
        vpcId: this.vpcId,
        // Kept as it was before HTTPS: a new description would replace the group.
        description: "ecs-canary load balancer: HTTP listener open to clients",
        ingress: listenerPorts.map(openToClients),
        egress: ALL_EGRESS,
      },
      { parent: this },
    );

    this.taskSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-tasks`,
      {
        vpcId: this.vpcId,
        description: "ecs-canary tasks: container port from the load balancer only",
        ingress: [
          {
            protocol: "tcp",
            fromPort: containerPort,
            toPort: containerPort,
            securityGroups: [this.albSecurityGroup.id],
          },
        ],
        egress: ALL_EGRESS,
      },
      { parent: this },
    );

    this.registerOutputs({
      vpcId: this.vpcId,
      albSubnetIds: this.albSubnetIds,
      taskSubnetIds: this.taskSubnetIds,
    });
  }
}

function checkListenerPorts(ports: pulumi.Input<number>[]): pulumi.Input<number>[] {
  if (ports.length === 0) {
    throw new ConfigError("listenerPorts", "", "needs one or more ports for the load balancer");
  }
  return ports.map((port) => integerArg("listenerPorts", port, INTEGER_SETTINGS.listenerPort));
}

export function checkExistingVpc(vpc: ExistingVpcArgs): ExistingVpcArgs {
  return {
    vpcId: checked(vpc.vpcId, (id) => {
      if (id.trim() === "") throw new ConfigError("vpcId", id, "must not be blank");
    }),
    albSubnetIds: checked(vpc.albSubnetIds, (ids) => {
      if (ids.length < MIN_ALB_SUBNETS) {
        throw new ConfigError("albSubnetIds", idList(ids), ALB_SUBNETS_ALLOWED);
      }
    }),
    taskSubnetIds: checked(vpc.taskSubnetIds, (ids) => {
      if (ids.length === 0) {
        throw new ConfigError("taskSubnetIds", "", "needs one or more subnets for the tasks");
      }
    }),
  };
}
