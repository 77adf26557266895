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
}

export interface NetworkSettings {
  /** Existing VPC; when absent a new VPC is created. */
  vpcId?: string;
  /** Subnets of the existing VPC for the tasks. */
  subnetIds: string[];
  /** Subnets of the existing VPC for the load balancer (default: `subnetIds`). */
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
  network: NetworkSettings;
  /** Existing ECS cluster name or ARN; when absent a cluster is created. */
  cluster?: string;
  /** Local platform only: loopback port of the load balancer (0 picks a free one). */
  localPort: number;
  /** Local platform only: length of the balancer's metrics intervals (CloudWatch's is 60 s). */
  metricsIntervalSeconds: number;
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

export function otherColor(color: Color): Color {
  return color === "blue" ? "green" : "blue";
}

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

function colorSettings(get: RawConfig, color: Color, image: string): ColorSettings {
  return {
    version: text(get, `${color}Version`, "1.0.0"),
    image: optionalText(get, `${color}Image`) ?? image,
    errorRate: fraction(get, `${color}ErrorRate`),
    latencyMs: integer(get, `${color}LatencyMs`, 0, 0, 60_000),
  };
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
  }
  return {
    vpcId,
    subnetIds,
    albSubnetIds: albSubnetIds.length > 0 ? albSubnetIds : subnetIds,
    assignPublicIp: boolean(get, "assignPublicIp"),
  };
}

export function parseSettings(get: RawConfig): Settings {
  const platformRaw = get("platform") ?? "aws";
  if (platformRaw !== "aws" && platformRaw !== "local") {
    throw new ConfigError("platform", platformRaw, 'must be "aws" or "local"');
  }
  const canaryWeight = integer(get, "canaryWeight", 0, 0, 100);
  const stableColor = parseColor("stableColor", get("stableColor") ?? "blue");
  const image = text(get, "image", DEFAULT_IMAGE);
  return {
    platform: platformRaw,
    canaryWeight,
    stableColor,
    canaryColor: otherColor(stableColor),
    blue: colorSettings(get, "blue", image),
    green: colorSettings(get, "green", image),
    desiredCount: integer(get, "desiredCount", 2, 1, 100),
    canaryScale: integer(get, "canaryScale", 100, 0, 100),
    containerPort: integer(get, "containerPort", 4000, 1, 65535),
    listenerPort: integer(get, "listenerPort", 80, 1, 65535),
    cpu: integer(get, "cpu", 256, 256, 16384),
    memory: integer(get, "memory", 512, 512, 122880),
    stickinessSeconds: integer(get, "stickinessSeconds", 0, 0, 604800),
    network: networkSettings(get),
    cluster: optionalText(get, "cluster"),
    localPort: integer(get, "localPort", 0, 0, 65535),
    metricsIntervalSeconds: integer(get, "metricsIntervalSeconds", 60, 1, 3600),
  };
}
