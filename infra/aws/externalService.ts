import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Color, ColorSettings } from "../contract/settings";

export const CONTAINER_NAME = "mycontainer";

/** Lets ECS tasks assume the role: the execution role's trust policy. */
export const ECS_TASKS_TRUST_POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { Service: "ecs-tasks.amazonaws.com" },
      Action: "sts:AssumeRole",
    },
  ],
} satisfies aws.iam.PolicyDocument;

export const TASK_EXECUTION_POLICY_ARN =
  "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

export interface ExternalServiceArgs {
  /** Existing cluster name or ARN; a cluster is created when absent. */
  cluster?: string;
  desiredCount: number;
  /** Task set scale per colour, percent of desiredCount. */
  scale: Record<Color, number>;
  containerPort: number;
  cpu: number;
  memory: number;
  colors: Record<Color, ColorSettings>;
  targetGroupArns: Record<Color, pulumi.Input<string>>;
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  securityGroupId: pulumi.Input<string>;
  assignPublicIp: boolean;
  /** Task sets register targets only once the listener forwards to their target groups. */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export interface ColorTaskSet {
  taskDefinition: aws.ecs.TaskDefinition;
  taskSet: aws.ecs.TaskSet;
}

/** The cluster's name from a name or an ARN (`arn:aws:ecs:region:account:cluster/name`). */
export function clusterNameOf(nameOrArn: string): string {
  const slash = nameOrArn.lastIndexOf("/");
  return nameOrArn.startsWith("arn:") && slash >= 0 ? nameOrArn.slice(slash + 1) : nameOrArn;
}

/**
 * An ECS service under the EXTERNAL deployment controller with one task set per
 * colour. The service itself carries no task definition, load balancer or
 * network configuration: those belong to the task sets.
 */
export class ExternalService extends pulumi.ComponentResource {
  readonly clusterName: pulumi.Output<string>;
  readonly service: aws.ecs.Service;
  readonly taskSets: Record<Color, ColorTaskSet>;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly executionRole: aws.iam.Role;
  /** The execution role's permissions (pull images, write logs): tasks start only after it. */
  readonly executionRolePolicy: aws.iam.RolePolicyAttachment;

  constructor(name: string, args: ExternalServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ecs-canary:aws:ExternalService", name, {}, opts);

    let clusterRef: pulumi.Output<string>;
    if (args.cluster === undefined) {
      const cluster = new aws.ecs.Cluster(name, {}, { parent: this });
      clusterRef = cluster.arn;
      this.clusterName = cluster.name;
    } else {
      clusterRef = pulumi.output(args.cluster);
      this.clusterName = pulumi.output(clusterNameOf(args.cluster));
    }

    this.logGroup = new aws.cloudwatch.LogGroup(name, { retentionInDays: 14 }, { parent: this });

    this.executionRole = new aws.iam.Role(
      `${name}-execution`,
      { assumeRolePolicy: JSON.stringify(ECS_TASKS_TRUST_POLICY) },
      { parent: this },
    );
    this.executionRolePolicy = new aws.iam.RolePolicyAttachment(
      `${name}-execution`,
      { role: this.executionRole.name, policyArn: TASK_EXECUTION_POLICY_ARN },
      { parent: this },
    );

    this.service = new aws.ecs.Service(
      name,
      {
        cluster: clusterRef,
        desiredCount: args.desiredCount,
        deploymentController: {
          type: "EXTERNAL",
        } satisfies aws.types.input.ecs.ServiceDeploymentController,
      },
      { parent: this },
    );

    const region = aws.getRegionOutput({}, { parent: this }).region;
    const colorTaskSet = (color: Color): ColorTaskSet => {
      const settings = args.colors[color];
      const taskDefinition = new aws.ecs.TaskDefinition(
        `${name}-${color}`,
        {
          family: `${name}-${color}`,
          cpu: String(args.cpu),
          memory: String(args.memory),
          networkMode: "awsvpc",
          requiresCompatibilities: ["FARGATE"],
          executionRoleArn: this.executionRole.arn,
          containerDefinitions: pulumi.jsonStringify([
            {
              name: CONTAINER_NAME,
              image: settings.image,
              cpu: args.cpu,
              memory: args.memory,
              essential: true,
              environment: [{ name: "APPVERSION", value: settings.version }],
              portMappings: [
                {
                  containerPort: args.containerPort,
                  hostPort: args.containerPort,
                  protocol: "tcp",
                },
              ],
              logConfiguration: {
                logDriver: "awslogs",
                options: {
                  "awslogs-group": this.logGroup.name,
                  "awslogs-region": region,
                  "awslogs-stream-prefix": color,
                },
              },
            } satisfies aws.ecs.ContainerDefinition,
          ]),
        },
        // IAM is eventually consistent: a task started before the role's policy has propagated
        // cannot pull its image or create its log stream.
        { parent: this, dependsOn: [this.executionRolePolicy] },
      );
      const taskSet = new aws.ecs.TaskSet(
        `${name}-${color}`,
        {
          cluster: clusterRef,
          service: this.service.id,
          taskDefinition: taskDefinition.arn,
          externalId: `${name}-${color}`,
          launchType: "FARGATE",
          networkConfiguration: {
            subnets: args.subnetIds,
            securityGroups: [args.securityGroupId],
            assignPublicIp: args.assignPublicIp,
          },
          loadBalancers: [
            {
              containerName: CONTAINER_NAME,
              containerPort: args.containerPort,
              targetGroupArn: args.targetGroupArns[color],
            },
          ],
          scale: { unit: "PERCENT", value: args.scale[color] },
          waitUntilStable: true,
        },
        { parent: this, dependsOn: args.dependsOn },
      );
      return { taskDefinition, taskSet };
    };
    this.taskSets = { blue: colorTaskSet("blue"), green: colorTaskSet("green") };

    this.registerOutputs({ clusterName: this.clusterName, serviceName: this.service.name });
  }
}
