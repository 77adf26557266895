import { CanaryHeader, parseCanaryHeader } from "../../contract/canaryHeader";
import { INTEGER_SETTINGS } from "../../contract/settings";

/**
 * The balancer's rules, as an ALB listener's: the weighted forward action (1-5 target groups,
 * each with a weight (0-999) and its targets, loopback HTTP base URLs), optionally with target
 * group stickiness, and optionally a header route above it that forwards requests carrying a
 * header to one of those groups.
 */
export interface TargetGroupRule {
  id: string;
  weight: number;
  targets: string[];
}

/** Requests carrying the header (ALB http-header condition rules) go to `groupId` only. */
export interface HeaderRoute extends CanaryHeader {
  groupId: string;
}

export interface ForwardRule {
  groups: TargetGroupRule[];
  /** Keeps a client on the group it first got for this long (1-604800 s); absent or 0: off. */
  stickinessSeconds?: number;
  headerRoute?: HeaderRoute;
}

export const MAX_TARGET_GROUPS = 5;
export const MAX_WEIGHT = 999;

export class RuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RuleError";
  }
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Normalises a target to `http://host:port`; only loopback HTTP targets are accepted. */
export function parseTarget(raw: unknown, where: string): string {
  let url: URL | undefined;
  try {
    url = typeof raw === "string" ? new URL(raw) : undefined;
  } catch {
    url = undefined;
  }
  if (
    !url ||
    url.protocol !== "http:" ||
    !LOOPBACK_HOSTS.has(url.hostname) ||
    url.port === "" ||
    url.pathname !== "/" ||
    url.search !== ""
  ) {
    throw new RuleError(
      `${where} must be a loopback URL like http://127.0.0.1:4000, got ${JSON.stringify(raw)}`,
    );
  }
  return `http://${url.hostname}:${url.port}`;
}

function parseGroup(raw: unknown, where: string): TargetGroupRule {
  if (typeof raw !== "object" || raw === null) throw new RuleError(`${where} must be an object`);
  const { id, weight, targets } = raw as Record<string, unknown>;
  if (typeof id !== "string" || id.trim() === "") {
    throw new RuleError(`${where}.id must be a non-empty string`);
  }
  if (
    typeof weight !== "number" ||
    !Number.isInteger(weight) ||
    weight < 0 ||
    weight > MAX_WEIGHT
  ) {
    throw new RuleError(
      `${where}.weight must be an integer from 0 to ${MAX_WEIGHT}, got ${JSON.stringify(weight)}`,
    );
  }
  if (!Array.isArray(targets)) throw new RuleError(`${where}.targets must be an array`);
  const parsed = targets.map((t, i) => parseTarget(t, `${where}.targets[${i}]`));
  if (new Set(parsed).size !== parsed.length) {
    throw new RuleError(`${where}.targets must not repeat a target`);
  }
  return { id, weight, targets: parsed };
}

/** Validates a rule as sent to `PUT /config`; throws RuleError naming the offending field. */
export function parseForwardRule(body: unknown): ForwardRule {
  if (typeof body !== "object" || body === null || !Array.isArray((body as ForwardRule).groups)) {
    throw new RuleError("the body must be a JSON object with a groups array");
  }
  const raw = (body as { groups: unknown[] }).groups;
  if (raw.length < 1 || raw.length > MAX_TARGET_GROUPS) {
    throw new RuleError(
      `groups must hold 1 to ${MAX_TARGET_GROUPS} target groups, got ${raw.length}`,
    );
  }
  const groups = raw.map((g, i) => parseGroup(g, `groups[${i}]`));
  if (new Set(groups.map((g) => g.id)).size !== groups.length) {
    throw new RuleError("groups must not repeat a target group id");
  }
  const { stickinessSeconds, headerRoute } = body as Record<string, unknown>;
  const { max } = INTEGER_SETTINGS.stickinessSeconds;
  if (
    stickinessSeconds !== undefined &&
    (typeof stickinessSeconds !== "number" ||
      !Number.isInteger(stickinessSeconds) ||
      stickinessSeconds < 0 ||
      stickinessSeconds > max)
  ) {
    throw new RuleError(
      `stickinessSeconds must be an integer from 0 to ${max}, got ${JSON.stringify(stickinessSeconds)}`,
    );
  }
  const rule: ForwardRule = { groups };
  if (typeof stickinessSeconds === "number" && stickinessSeconds > 0) {
    rule.stickinessSeconds = stickinessSeconds;
  }
  if (headerRoute !== undefined && headerRoute !== null) {
    rule.headerRoute = parseHeaderRoute(headerRoute, groups);
  }
  return rule;
}

function parseHeaderRoute(raw: unknown, groups: readonly TargetGroupRule[]): HeaderRoute {
  if (typeof raw !== "object" || raw === null) throw new RuleError("headerRoute must be an object");
  const { name, value, groupId } = raw as Record<string, unknown>;
  const text = `${String(name)}: ${String(value)}`;
  const header =
    typeof name === "string" && typeof value === "string" && !name.includes(":")
      ? parseCanaryHeader(text, (allowed) => new RuleError(`headerRoute ${allowed}`))
      : undefined;
  if (header === undefined || header.name !== name || header.value !== value) {
    throw new RuleError(
      `headerRoute must have a header name and value, got ${JSON.stringify(raw)}`,
    );
  }
  if (typeof groupId !== "string" || !groups.some((g) => g.id === groupId)) {
    throw new RuleError(
      `headerRoute.groupId must be one of the groups' ids, got ${JSON.stringify(groupId)}`,
    );
  }
  return { ...header, groupId };
}
