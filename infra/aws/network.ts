import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { NetworkSettings } from "../contract/settings";

export interface CanaryNetworkArgs {
  network: NetworkSettings;
  listenerPort: number;
  /** With HTTPS: the HTTPS listener's port, opened beside `listenerPort` (which redirects). */
  httpsPort?: number;
  containerPort: number;
}

/** Everything out: tasks pull their image and write logs over the internet or VPC endpoints. */
const ALL_EGRESS = [
  { protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] },
] satisfies aws.types.input.ec2.SecurityGroupEgress[];

/** A TCP port open to every client, over IPv4 and IPv6. */
function openToClients(port: number): aws.types.input.ec2.SecurityGroupIngress {
  return {
    protocol: "tcp",
    fromPort: port,
    toPort: port,
    cidrBlocks: ["0.0.0.0/0"],
    ipv6CidrBlocks: ["::/0"],
  };
}

/**
 * The VPC (new, through awsx, or an existing one named in config) and the two
 * security groups: the load balancer open on its listener port(s), the tasks
 * reachable on the container port from the load balancer only.
 */
export class CanaryNetwork extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly albSubnetIds: pulumi.Output<string[]>;
  readonly taskSubnetIds: pulumi.Output<string[]>;
  readonly albSecurityGroup: aws.ec2.SecurityGroup;
  readonly taskSecurityGroup: aws.ec2.SecurityGroup;

  constructor(name: string, args: CanaryNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ecs-canary:aws:Network", name, {}, opts);
    const { network } = args;

    if (network.vpcId === undefined) {
      const vpc = new awsx.ec2.Vpc(
        `${name}-vpc`,
        {
          natGateways: { strategy: awsx.ec2.NatGatewayStrategy.Single },
        } satisfies awsx.ec2.VpcArgs,
        { parent: this },
      );
      this.vpcId = vpc.vpcId;
      this.albSubnetIds = vpc.publicSubnetIds;
      this.taskSubnetIds = network.assignPublicIp ? vpc.publicSubnetIds : vpc.privateSubnetIds;
    } else {
      this.vpcId = pulumi.output(network.vpcId);
      this.albSubnetIds = pulumi.output(network.albSubnetIds);
      this.taskSubnetIds = pulumi.output(network.subnetIds);
    }

    this.albSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-alb`,
      {
        vpcId: this.vpcId,
        // Kept as it was before HTTPS: a new description would replace the group.
        description: "ecs-canary load balancer: HTTP listener open to clients",
        ingress: [args.listenerPort, args.httpsPort]
          .filter((port): port is number => port !== undefined)
          .map(openToClients),
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
            fromPort: args.containerPort,
            toPort: args.containerPort,
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
