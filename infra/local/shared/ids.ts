import { randomBytes } from "crypto";
import { Color } from "../../contract/settings";

/**
 * Local stand-ins for the AWS identifiers in the stack outputs, shaped like
 * their ARNs and ARN suffixes so that whatever reads them needs no special case.
 */
export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

export function taskSetId(color: Color, hex: string): string {
  return `ts-${color}-${hex}`;
}

export function balancerId(hex: string): string {
  return `lb-${hex}`;
}

function hexOf(id: string): string {
  return id.slice(id.lastIndexOf("-") + 1);
}

export function loadBalancerArnSuffix(name: string, lbId: string): string {
  return `app/${name}/${hexOf(lbId)}`;
}

export function targetGroupArnSuffix(color: Color, lbId: string): string {
  return `targetgroup/${color}/${hexOf(lbId)}`;
}

export function localArn(suffix: string): string {
  return `local:${suffix}`;
}

export function listenerRuleArn(name: string, lbId: string): string {
  return `local:listener-rule/app/${name}/${hexOf(lbId)}/forward`;
}

/** Marks a process as started by one resource of one stack; see child-processes.ts. */
export function processToken(stack: string, resourceId: string, index?: number): string {
  return `ecs-canary/${stack}/${resourceId}${index === undefined ? "" : `/${index}`}`;
}
