/**
 * Target group stickiness as an ALB's weighted forward action keeps it: the first answer to a
 * client carries a cookie naming the target group it got, and while the cookie is valid the
 * client's requests go to that group whatever the weights say. An ALB names the cookie
 * `AWSALBTG` and sends the same value again as `AWSALBTGCORS` with `SameSite=None; Secure` for
 * cross-origin requests; its value is encrypted and opaque. Stickiness lasts `DurationSeconds`,
 * 1-604800 (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupStickinessConfig.html;
 * https://aws.amazon.com/blogs/devops/blue-green-deployments-with-application-load-balancer/).
 * Here the value is readable (the group and when stickiness ends) and it expires with the
 * stickiness, counted from the first answer, not extended by later requests.
 */
export const STICKY_COOKIE = "AWSALBTG";
export const STICKY_CORS_COOKIE = "AWSALBTGCORS";

export interface Stickiness {
  groupId: string;
  /** When the client stops being kept on the group (epoch ms). */
  untilMs: number;
}

function encode(stickiness: Stickiness): string {
  return Buffer.from(JSON.stringify({ g: stickiness.groupId, u: stickiness.untilMs })).toString(
    "base64url",
  );
}

function decode(value: string): Stickiness | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as unknown;
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const { g, u } = parsed as Record<string, unknown>;
    if (typeof g !== "string" || typeof u !== "number" || !Number.isFinite(u)) return undefined;
    return { groupId: g, untilMs: u };
  } catch {
    return undefined;
  }
}

/** The stickiness a request's `Cookie` header carries (either cookie), if any parses. */
export function readStickiness(cookieHeader: string | undefined): Stickiness | undefined {
  if (!cookieHeader) return undefined;
  const values = new Map<string, string>();
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) values.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  for (const name of [STICKY_COOKIE, STICKY_CORS_COOKIE]) {
    const value = values.get(name);
    const stickiness = value === undefined ? undefined : decode(value);
    if (stickiness) return stickiness;
  }
  return undefined;
}

/** The `Set-Cookie` values that keep a client on the group until `untilMs`. */
export function stickinessCookies(stickiness: Stickiness): string[] {
  const value = encode(stickiness);
  const expires = new Date(stickiness.untilMs).toUTCString();
  return [
    `${STICKY_COOKIE}=${value}; Expires=${expires}; Path=/`,
    `${STICKY_CORS_COOKIE}=${value}; Expires=${expires}; Path=/; SameSite=None; Secure`,
  ];
}
