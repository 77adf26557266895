import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  Color,
  COLORS,
  ConfigError,
  INTEGER_SETTINGS,
  parseImage,
  parseVersion,
} from "../contract/settings";
import { checked, integerArg, settingArg } from "./argChecks";

export const CONTAINER_NAME = "mycontainer";

/** What a colour runs. */
export interface ColorImageArgs {
  /** A container image reference, e.g. `repo/name:tag` or `host/repo/name@sha256:<digest>`. */
  image: pulumi.Input<string>;
  /** The container's APPVERSION: 1-128 letters, digits and `. _ + -`. */
  version: pulumi.Input<string>;
}

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

/** One colour's task set. */
export interface ColorTaskSetArgs extends ColorImageArgs {
  /** The task set's scale, percent (0-100) of the service's desired count. */
  scale: pulumi.Input<number>;
  /** The target group its tasks register in. */
  targetGroupArn: pulumi.Input<string>;
}

export interface ExternalServiceArgs {
  /** An existing cluster's name or ARN; absent: a cluster is created. */
  cluster?: pulumi.Input<string>;
  /** Tasks at a scale of 100 (1-100, default 2). */
  desiredCount?: pulumi.Input<number>;
  containerPort: pulumi.Input<number>;
  /** Fargate task CPU units (256-16384, default 256) and memory in MiB (512-122880, default 512). */
  cpu?: pulumi.Input<number>;
  memory?: pulumi.Input<number>;
  colors: Record<Color, ColorTaskSetArgs>;
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  securityGroupId: pulumi.Input<string>;
  /** Default false. */
  assignPublicIp?: pulumi.Input<boolean>;
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
    const existingCluster = args.cluster === undefined ? undefined : checkCluster(args.cluster);
    const desiredCount = settingArg("desiredCount", args.desiredCount);
    const containerPort = settingArg("containerPort", args.containerPort);
    const cpu = settingArg("cpu", args.cpu);
    const memory = settingArg("memory", args.memory);
    const colors = Object.fromEntries(
      COLORS.map((color) => [color, checkColorTaskSet(color, args.colors[color])]),
    ) as Record<Color, ColorTaskSetArgs>;
    super("ecs-canary:aws:ExternalService", name, {}, opts);

    let clusterRef: pulumi.Output<string>;
    if (existingCluster === undefined) {
      const cluster = new aws.ecs.Cluster(name, {}, { parent: this });
      clusterRef = cluster.arn;
      this.clusterName = cluster.name;
    } else {
      clusterRef = pulumi.output(existingCluster);
      this.clusterName = clusterRef.apply(clusterNameOf);
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
        desiredCount,
        deploymentController: {
          type: "EXTERNAL",
        } satisfies aws.types.input.ecs.ServiceDeploymentController,
      },
      { parent: this },
    );

    const region = aws.getRegionOutput({}, { parent: this }).region;
    const colorTaskSet = (color: Color): ColorTaskSet => {
      const { image, version } = colors[color];
      const taskDefinition = new aws.ecs.TaskDefinition(
        `${name}-${color}`,
        {
          family: `${name}-${color}`,
          cpu: pulumi.output(cpu).apply(String),
          memory: pulumi.output(memory).apply(String),
          networkMode: "awsvpc",
          requiresCompatibilities: ["FARGATE"],
          executionRoleArn: this.executionRole.arn,
          containerDefinitions: pulumi
            .all([image, version, cpu, memory, containerPort, this.logGroup.name, region])
            .apply(([image, version, cpu, memory, containerPort, logGroup, region]) =>
              JSON.stringify([
                {
                  name: CONTAINER_NAME,
                  image,
                  cpu,
                  memory,
                  essential: true,
                  environment: [{ name: "APPVERSION", value: version }],
                  portMappings: [{ containerPort, hostPort: containerPort, protocol: "tcp" }],
                  logConfiguration: {
                    logDriver: "awslogs",
                    options: {
                      "awslogs-group": logGroup,
                      "awslogs-region": region,
                      "awslogs-stream-prefix": color,
                    },
                  },
                } satisfies aws.ecs.ContainerDefinition,
              ]),
            ),
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
            assignPublicIp: args.assignPublicIp ?? false,
          },
          loadBalancers: [
            {
              containerName: CONTAINER_NAME,
              containerPort,
              targetGroupArn: colors[color].targetGroupArn,
            },
          ],
          scale: { unit: "PERCENT", value: colors[color].scale },
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

function checkCluster(cluster: pulumi.Input<string>): pulumi.Input<string> {
  return checked(cluster, (value) => {
    if (value.trim() === "") throw new ConfigError("cluster", value, "must not be blank when set");
  });
}

/** A colour's image and version are single tokens (see IMAGE_PATTERN, VERSION_PATTERN). */
export function checkColorImage(color: Color, args: ColorImageArgs): ColorImageArgs {
  return {
    image: checked(args.image, (image) => parseImage(`colors.${color}.image`, image)),
    version: checked(args.version, (version) => parseVersion(`colors.${color}.version`, version)),
  };
}

function checkColorTaskSet(color: Color, args: ColorTaskSetArgs): ColorTaskSetArgs {
  return {
    ...checkColorImage(color, args),
    scale: integerArg(`colors.${color}.scale`, args.scale, INTEGER_SETTINGS.canaryScale),
    targetGroupArn: args.targetGroupArn,
  };
}
