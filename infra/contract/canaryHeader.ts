import type { Color } from "./settings";

/**
 * The header route: requests that carry this header go to the canary colour only. Free of
 * Pulumi and I/O, shared by the settings, both platforms and the probe gate.
 *
 * The rules are an ALB `http-header` condition's (HttpHeaderConditionConfig,
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_HttpHeaderConditionConfig.html;
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html):
 * - the name: at most 40 characters, the characters RFC 7230 allows in a field name (a token),
 *   case-insensitive, no wildcards, and not `Host` (a host condition does that);
 * - the value: at most 128 characters, compared case-insensitively, `*` matching 0 or more
 *   characters and `?` exactly one; rules apply to visible ASCII only, no control characters.
 */
export interface CanaryHeader {
  name: string;
  value: string;
}

export const HEADER_NAME_MAX = 40;
export const HEADER_VALUE_MAX = 128;
/** RFC 7230 `token` characters, without the `*` an ALB would read as a wildcard. */
const NAME_PATTERN = /^[!#$%&'+.^_`|~0-9A-Za-z-]+$/;
/** Visible ASCII and the space inside a value (no control characters, 0x00-0x1f and 0x7f). */
const VALUE_PATTERN = /^[\x20-\x7e]+$/;

export const CANARY_HEADER_ALLOWED =
  `must be "Name: value": a header name of 1-${HEADER_NAME_MAX} letters, digits and ! # $ % & ' + . ^ _ \` | ~ - ` +
  `(not Host), and a value of 1-${HEADER_VALUE_MAX} visible ASCII characters (* and ? are wildcards)`;

/**
 * Parses `Name: value`; returns undefined for an empty text and throws `refuse(allowed)` for a
 * bad one, so that a setting and a flag can word the refusal their own way.
 */
export function parseCanaryHeader(
  raw: string,
  refuse: (allowed: string) => Error,
): CanaryHeader | undefined {
  if (raw.trim() === "") return undefined;
  const colon = raw.indexOf(":");
  if (colon < 0) throw refuse(CANARY_HEADER_ALLOWED);
  const name = raw.slice(0, colon).trim();
  const value = raw.slice(colon + 1).trim();
  if (
    name.length === 0 ||
    name.length > HEADER_NAME_MAX ||
    !NAME_PATTERN.test(name) ||
    name.toLowerCase() === "host" ||
    value.length === 0 ||
    value.length > HEADER_VALUE_MAX ||
    !VALUE_PATTERN.test(value)
  ) {
    throw refuse(CANARY_HEADER_ALLOWED);
  }
  return { name, value };
}

export function formatCanaryHeader(header: CanaryHeader): string {
  return `${header.name}: ${header.value}`;
}

/** Whether one value a request carries matches the rule's value (case-insensitive, * and ?). */
export function headerValueMatches(pattern: string, actual: string): boolean {
  const source = [...pattern]
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`, "is").test(actual);
}

/** Where the header route sends requests, when there is one. */
export interface HeaderRoute extends CanaryHeader {
  color: Color;
}

/**
 * The header route of a stack with these settings: to the canary colour (the one that is not
 * `stableColor`: after a promotion, the old stable), and only while that colour has tasks
 * (`canaryScale` > 0): a route to a colour without tasks would answer the ALB's 503. Absent
 * without a header.
 */
export function headerRouteFor(settings: {
  canaryHeader?: CanaryHeader;
  canaryColor: Color;
  canaryScale: number;
}): HeaderRoute | undefined {
  const { canaryHeader, canaryColor, canaryScale } = settings;
  if (canaryHeader === undefined || canaryScale === 0) return undefined;
  return { ...canaryHeader, color: canaryColor };
}
