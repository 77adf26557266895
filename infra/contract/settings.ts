import { CanaryHeader, parseCanaryHeader } from "./canaryHeader";

/**
 * Stack settings: parsing and validation, free of Pulumi so that the program,
 * the driver and the tests share one definition of what a valid setting is.
 */

export type Color = "blue" | "green";
export const COLORS: readonly Color[] = ["blue", "green"];
export type Platform = "aws" | "local";

export interface ColorSettings {
  version: string;
  image: string;
  /** Local platform only: share of requests the sample service answers with 500. */
  errorRate: number;
  /** Local platform only: extra latency added to every response, in milliseconds. */
  latencyMs: number;
  /**
   * Local platform only: each sample-service process exits this many ms after it starts
   * listening (0: never), as a crashing container would; 1 means it never becomes healthy.
   */
  crashAfterMs: number;
}

export interface NetworkSettings {
  /** Existing VPC; when absent a new VPC is created. */
  vpcId?: string;
  /** Subnets of the existing VPC for the tasks. */
  subnetIds: string[];
  /**
   * Subnets of the existing VPC for the load balancer: required with vpcId, at least two (an
   * ALB needs subnets in two or more Availability Zones), public for an internet-facing ALB.
   */
  albSubnetIds: string[];
  assignPublicIp: boolean;
}

export interface Settings {
  platform: Platform;
  canaryWeight: number;
  stableColor: Color;
  canaryColor: Color;
  blue: ColorSettings;
  green: ColorSettings;
  desiredCount: number;
  /**
   * Scale of the canary colour's task set in percent of desiredCount. The
   * driver sets 0 to scale down the old stable some time after a promotion.
   */
  canaryScale: number;
  containerPort: number;
  listenerPort: number;
  cpu: number;
  memory: number;
  stickinessSeconds: number;
  /**
   * Requests carrying this header go to the canary colour only (a listener rule above the
   * weighted one), while the canary colour has tasks; absent: no such rule.
   */
  canaryHeader?: CanaryHeader;
  /** Target groups' deregistration delay: how long a scale-down or replacement drains targets. */
  deregistrationDelaySeconds: number;
  /** ACM (or IAM) certificate: when set, an HTTPS listener on 443 and port 80 redirecting to it. */
  certificateArn?: string;
  network: NetworkSettings;
  /** Existing ECS cluster name or ARN; when absent a cluster is created. */
  cluster?: string;
  /** Local platform only: loopback port of the load balancer (0 picks a free one). */
  localPort: number;
  /** Local platform only: length of the balancer's metrics intervals (CloudWatch's is 60 s). */
  metricsIntervalSeconds: number;
  /**
   * How long after an interval ends its metrics count as settled (ALB datapoints reach
   * CloudWatch one to several minutes late); gates judge settled intervals only.
   */
  metricsSettleSeconds: number;
}

/** A setting that is not allowed; the message names the key, the value and what is allowed. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly value: string,
    readonly allowed: string,
  ) {
    super(`invalid setting ${key}=${JSON.stringify(value)}: ${allowed}`);
    this.name = "ConfigError";
  }
}

/** Reads one raw setting (as Pulumi stores it: a string) or undefined when unset. */
export type RawConfig = (key: string) => string | undefined;

export const DEFAULT_IMAGE = "octopussamples/helloworldwithversion";

/**
 * ALB datapoints reach CloudWatch one to several minutes late, and the newest minute may be
 * partial; the local balancer's intervals are complete when they end.
 */
export const DEFAULT_SETTLE_SECONDS: Record<Platform, number> = { aws: 180, local: 0 };

export function otherColor(color: Color): Color {
  return color === "blue" ? "green" : "blue";
}

/**
 * The whole-number settings: the range each allows and the value it takes when unset. The
 * program's settings and the AWS components' arguments are checked against the same table.
 */
export const INTEGER_SETTINGS = {
  canaryWeight: { min: 0, max: 100, fallback: 0 },
  canaryScale: { min: 0, max: 100, fallback: 100 },
  desiredCount: { min: 1, max: 100, fallback: 2 },
  containerPort: { min: 1, max: 65535, fallback: 4000 },
  listenerPort: { min: 1, max: 65535, fallback: 80 },
  cpu: { min: 256, max: 16384, fallback: 256 },
  memory: { min: 512, max: 122880, fallback: 512 },
  stickinessSeconds: { min: 0, max: 604800, fallback: 0 },
  // The range AWS allows for deregistration_delay.timeout_seconds.
  deregistrationDelaySeconds: { min: 0, max: 3600, fallback: 30 },
  localPort: { min: 0, max: 65535, fallback: 0 },
  metricsIntervalSeconds: { min: 1, max: 3600, fallback: 60 },
  // Unset, the platform's delay: DEFAULT_SETTLE_SECONDS.
  metricsSettleSeconds: { min: 0, max: 3600, fallback: undefined },
} as const satisfies Record<string, { min: number; max: number; fallback: number | undefined }>;

export type IntegerSetting = keyof typeof INTEGER_SETTINGS;

export function parseInteger(key: string, raw: string, min: number, max: number): number {
  const trimmed = raw.trim();
  const value = Number(trimmed);
  if (!/^-?\d+$/.test(trimmed) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(key, raw, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function integer(get: RawConfig, key: string, fallback: number, min: number, max: number): number {
  const raw = get(key);
  return raw === undefined ? fallback : parseInteger(key, raw, min, max);
}

/** A setting of INTEGER_SETTINGS, its fallback when unset. */
function tabled(get: RawConfig, key: Exclude<IntegerSetting, "metricsSettleSeconds">): number {
  const { min, max, fallback } = INTEGER_SETTINGS[key];
  return integer(get, key, fallback, min, max);
}

/** Refuses a number outside the setting's range, with the message a setting of that value gets. */
export function checkInteger(key: IntegerSetting, value: number): number {
  const { min, max } = INTEGER_SETTINGS[key];
  return parseInteger(key, String(value), min, max);
}

/** An integer that Pulumi.yaml declares with an empty default: empty means the fallback. */
function optionalInteger(
  get: RawConfig,
  key: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = get(key);
  return raw === undefined || raw === "" ? fallback : parseInteger(key, raw, min, max);
}

function fraction(get: RawConfig, key: string): number {
  const raw = get(key);
  if (raw === undefined) return 0;
  const value = Number(raw.trim());
  if (raw.trim() === "" || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new ConfigError(key, raw, "must be a number from 0 to 1");
  }
  return value;
}

function text(get: RawConfig, key: string, fallback: string): string {
  const raw = get(key);
  if (raw === undefined) return fallback;
  if (raw.trim() === "") throw new ConfigError(key, raw, "must not be empty");
  return raw.trim();
}

/**
 * A version is one token: it becomes the container's APPVERSION, a task definition's
 * environment and a line of every message, so no spaces, newlines or control characters.
 */
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
export const VERSION_ALLOWED =
  "must be 1-128 characters of letters, digits and . _ + -, starting with a letter or digit";

/**
 * A container image reference as Docker's reference grammar allows it
 * (distribution/reference: `[host[:port]/]path[:tag][@digest]`): one token of lowercase path
 * components, an optional tag and an optional digest, at most 255 characters.
 */
export const IMAGE_PATTERN =
  /^(?=.{1,255}$)(?:[A-Za-z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,})?$/;
export const IMAGE_ALLOWED =
  "must be a container image reference such as repo/name:tag or host/repo/name@sha256:<digest> (no spaces)";

export function parseVersion(key: string, raw: string): string {
  if (!VERSION_PATTERN.test(raw)) throw new ConfigError(key, raw, VERSION_ALLOWED);
  return raw;
}

export function parseImage(key: string, raw: string): string {
  if (!IMAGE_PATTERN.test(raw)) throw new ConfigError(key, raw, IMAGE_ALLOWED);
  return raw;
}

export function parseColor(key: string, raw: string): Color {
  if (raw !== "blue" && raw !== "green") {
    throw new ConfigError(key, raw, 'must be "blue" or "green"');
  }
  return raw;
}

function boolean(get: RawConfig, key: string): boolean {
  const raw = get(key);
  if (raw === undefined) return false;
  if (raw !== "true" && raw !== "false") throw new ConfigError(key, raw, "must be true or false");
  return raw === "true";
}

/** Accepts a JSON array of strings or a comma-separated list; empty means unset. */
function stringList(get: RawConfig, key: string): string[] {
  const raw = get(key);
  if (raw === undefined || raw === "") return [];
  let items: unknown;
  if (raw.trim().startsWith("[")) {
    try {
      items = JSON.parse(raw);
    } catch {
      items = undefined;
    }
  } else {
    items = raw.split(",").map((s) => s.trim());
  }
  if (
    !Array.isArray(items) ||
    items.length === 0 ||
    items.some((s) => typeof s !== "string" || s.trim() === "")
  ) {
    throw new ConfigError(key, raw, "must be a non-empty list of IDs (JSON array or a,b,c)");
  }
  return items.map((s: string) => s.trim());
}

/** An optional setting: Pulumi.yaml declares it with an empty default, so empty means unset. */
function optionalText(get: RawConfig, key: string): string | undefined {
  const raw = get(key);
  if (raw === undefined || raw === "") return undefined;
  if (raw.trim() === "") throw new ConfigError(key, raw, "must not be blank when set");
  return raw.trim();
}

/** An ACM certificate ARN, or an IAM server certificate's. */
export const CERTIFICATE_ARN_PATTERN =
  /^arn:aws[a-z-]*:(acm:[a-z0-9-]+:\d{12}:certificate\/|iam::\d{12}:server-certificate\/)\S+$/;
export const CERTIFICATE_ARN_ALLOWED =
  "must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>) or an IAM server certificate ARN";

export function parseCertificateArn(key: string, raw: string): string {
  if (!CERTIFICATE_ARN_PATTERN.test(raw)) throw new ConfigError(key, raw, CERTIFICATE_ARN_ALLOWED);
  return raw;
}

function canaryHeader(get: RawConfig): CanaryHeader | undefined {
  const raw = get("canaryHeader") ?? "";
  return parseCanaryHeader(raw, (allowed) => new ConfigError("canaryHeader", raw, allowed));
}

function certificateArn(get: RawConfig): string | undefined {
  const raw = optionalText(get, "certificateArn");
  return raw === undefined ? undefined : parseCertificateArn("certificateArn", raw);
}

function colorSettings(get: RawConfig, color: Color, image: string): ColorSettings {
  const ownImage = optionalText(get, `${color}Image`);
  return {
    version: parseVersion(`${color}Version`, text(get, `${color}Version`, "1.0.0")),
    image: ownImage === undefined ? image : parseImage(`${color}Image`, ownImage),
    errorRate: fraction(get, `${color}ErrorRate`),
    latencyMs: integer(get, `${color}LatencyMs`, 0, 0, 60_000),
    crashAfterMs: integer(get, `${color}CrashAfterMs`, 0, 0, 3_600_000),
  };
}

/**
 * An ALB needs subnets in at least two Availability Zones; the task subnets are private by
 * default, the wrong place for an internet-facing balancer.
 */
export const MIN_ALB_SUBNETS = 2;
export const ALB_SUBNETS_ALLOWED =
  "needs two or more public subnets, in different Availability Zones, when vpcId is set";

/**
 * Refuses traffic for a canary colour without tasks: the ALB answers 503 for the share sent to
 * a target group without registered targets, and those 503s appear in no target group's
 * metrics, so no gate would see them.
 */
export function checkCanaryHasTasks(canaryWeight: number, canaryScale: number): void {
  if (canaryWeight > 0 && canaryScale === 0) {
    throw new ConfigError(
      "canaryWeight",
      String(canaryWeight),
      "must be 0 while canaryScale is 0 (the canary colour has no tasks); set canaryScale first",
    );
  }
}

function networkSettings(get: RawConfig): NetworkSettings {
  const vpcId = optionalText(get, "vpcId");
  const subnetIds = stringList(get, "subnetIds");
  const albSubnetIds = stringList(get, "albSubnetIds");
  if (vpcId === undefined) {
    if (subnetIds.length > 0) {
      throw new ConfigError("subnetIds", get("subnetIds") ?? "", "needs vpcId to be set as well");
    }
    if (albSubnetIds.length > 0) {
      throw new ConfigError("albSubnetIds", get("albSubnetIds") ?? "", "needs vpcId to be set");
    }
  } else if (subnetIds.length === 0) {
    throw new ConfigError("vpcId", vpcId, "needs subnetIds (the existing VPC's subnets for tasks)");
  } else if (albSubnetIds.length < MIN_ALB_SUBNETS) {
    throw new ConfigError("albSubnetIds", get("albSubnetIds") ?? "", ALB_SUBNETS_ALLOWED);
  }
  return {
    vpcId,
    subnetIds,
    albSubnetIds,
    assignPublicIp: boolean(get, "assignPublicIp"),
  };
}

export function parseSettings(get: RawConfig): Settings {
  const platformRaw = get("platform") ?? "aws";
  if (platformRaw !== "aws" && platformRaw !== "local") {
    throw new ConfigError("platform", platformRaw, 'must be "aws" or "local"');
  }
  const canaryWeight = tabled(get, "canaryWeight");
  const stableColor = parseColor("stableColor", get("stableColor") ?? "blue");
  const image = parseImage("image", text(get, "image", DEFAULT_IMAGE));
  const canaryScale = tabled(get, "canaryScale");
  checkCanaryHasTasks(canaryWeight, canaryScale);
  return {
    platform: platformRaw,
    canaryWeight,
    stableColor,
    canaryColor: otherColor(stableColor),
    blue: colorSettings(get, "blue", image),
    green: colorSettings(get, "green", image),
    desiredCount: tabled(get, "desiredCount"),
    canaryScale,
    containerPort: tabled(get, "containerPort"),
    listenerPort: tabled(get, "listenerPort"),
    cpu: tabled(get, "cpu"),
    memory: tabled(get, "memory"),
    stickinessSeconds: tabled(get, "stickinessSeconds"),
    canaryHeader: canaryHeader(get),
    deregistrationDelaySeconds: tabled(get, "deregistrationDelaySeconds"),
    certificateArn: certificateArn(get),
    network: networkSettings(get),
    cluster: optionalText(get, "cluster"),
    localPort: tabled(get, "localPort"),
    metricsIntervalSeconds: tabled(get, "metricsIntervalSeconds"),
    metricsSettleSeconds: optionalInteger(
      get,
      "metricsSettleSeconds",
      DEFAULT_SETTLE_SECONDS[platformRaw],
      INTEGER_SETTINGS.metricsSettleSeconds.min,
      INTEGER_SETTINGS.metricsSettleSeconds.max,
    ),
  };
}
