/**
 * What the local processes and the code that starts them agree on: the health
 * checker's user agent and the message a child sends once it is listening.
 */

/** Health checks identify themselves so that the sample service's fault knobs leave them alone. */
export const HEALTH_CHECK_USER_AGENT = "ecs-canary-health-check/1";

/** Sent by a child process over its IPC channel once all its ports are bound. */
export interface ReadyMessage {
  kind: "ready";
  ports: Record<string, number>;
}

export function isReadyMessage(value: unknown): value is ReadyMessage {
  if (typeof value !== "object" || value === null) return false;
  const { kind, ports } = value as { kind?: unknown; ports?: unknown };
  return (
    kind === "ready" &&
    typeof ports === "object" &&
    ports !== null &&
    Object.values(ports).every((port) => Number.isInteger(port) && port > 0)
  );
}

/** Tells the starting process (when there is one) which ports were bound, then lets it go. */
export function reportReady(ports: Record<string, number>): void {
  if (!process.send) return;
  const message: ReadyMessage = { kind: "ready", ports };
  process.send(message, undefined, undefined, () => process.disconnect());
}
