import { formatCanaryHeader } from "../../infra/contract/canaryHeader";
import { probeHeaderOf } from "../gates/probe";
import { DriverError, NextStep } from "../release/errors";
import { formatDuration } from "../release/duration";
import { Outcome, OutcomeKind, ReleaseEvent } from "../release/ports";
import { describeSteps } from "../release/plan";
import { currentWeight, gateNames, ReleaseState } from "../release/state";

/** How people run the driver; every hint that names a command starts with it. */
export const COMMAND = "npx ecs-canary";

/** An outcome as the CLI shows it and prints in `--json`: what happened, in words. */
export interface ShownOutcome {
  kind: OutcomeKind;
  message: string;
  release?: ReleaseState;
}

/** A release event as the CLI shows it and prints in `--json` (one object a line). */
export type DriverEvent =
  | Exclude<ReleaseEvent, { type: "outcome" }>
  | { type: "outcome"; outcome: ShownOutcome };

/** The event with its outcome, if any, in words. */
export function driverEvent(event: ReleaseEvent, stack: string): DriverEvent {
  if (event.type !== "outcome") return event;
  return { type: "outcome", outcome: showOutcome(event.outcome, stack) };
}

export function showOutcome(outcome: Outcome, stack: string): ShownOutcome {
  const shown: ShownOutcome = { kind: outcome.kind, message: outcomeMessage(outcome, stack) };
  return outcome.release !== undefined ? { ...shown, release: outcome.release } : shown;
}

/** The line that says how a command ended, with the commands that go on from there. */
export function outcomeMessage({ kind, detail, release: r }: Outcome, stack: string): string {
  const run = (command: string) => `\`${COMMAND} ${command} --stack ${stack}\``;
  switch (detail.type) {
    case "stable-serves":
      return `no release in progress; ${detail.stable.color} (${detail.stable.version}) serves 100%`;
    case "weight-set": {
      const { canary, stable, weight } = detail;
      const scaledUp = detail.scaledUp
        ? `${canary.color} had no tasks: scaled it up to 100% and waited until they were healthy; `
        : "";
      return `${scaledUp}${canary.color} (${canary.version}) gets ${weight}%, ${stable.color} (${stable.version}) ${100 - weight}%`;
    }
    case "undone-meanwhile":
      return "the promotion was undone meanwhile";
    case "changed-meanwhile":
      return "the release was changed by another command meanwhile";
  }
  if (r === undefined) return kind;
  switch (detail.type) {
    case "swapped-back": {
      const scaledUp = detail.scaledUp
        ? `; ${r.stableColor} had been scaled down, so it was scaled up again first`
        : "";
      return `promotion of ${r.version} undone: ${r.stableColor} serves ${r.previousVersion} at 100%; ${detail.canaryNote}${scaledUp}`;
    }
    case "rolled-back":
      return (
        `${kind === "aborted" ? "aborted" : "rolled back"} ${r.version}: ${r.outcome}; ` +
        `${r.stableColor} (${r.previousVersion}) serves 100%; ${detail.canaryNote}`
      );
    case "paused":
      return (
        `paused at step ${r.stepIndex + 1} (${currentWeight(r)}%): ${detail.reason}; ` +
        `go on with ${run("promote")} or roll back with ${run("abort")}`
      );
    case "finished":
      return r.status === "promoted"
        ? `${r.version} promoted: ${r.canaryColor} serves 100%, ${r.stableColor} scaled down`
        : `release of ${r.version} ${r.status}`;
    case "interrupted":
      if (r.status === "promoted") {
        return (
          `${r.version} promoted; ${r.stableColor} (${r.previousVersion}) still runs for an instant abort ` +
          `(${run("abort")}); the next rollout scales it down`
        );
      }
      return (
        `stopped at step ${Math.max(r.stepIndex + 1, 0)} of ${r.steps.length} (${currentWeight(r)}% to ${r.version}); ` +
        `the stable version keeps serving. Continue with \`${COMMAND} rollout --stack ${stack} --version ${r.version}\` ` +
        `or roll back with ${run("abort")}`
      );
  }
}

/** What to run next after an error, appended to its message. */
function nextStepText(step: NextStep, stack: string): string {
  const run = (command: string) => `\`${COMMAND} ${command} --stack ${stack}\``;
  switch (step) {
    case "continue-or-stop":
      return `; continue it with ${run("promote")} or stop it with ${run("abort")}`;
    case "approve-or-roll-back":
      return `; approve with ${run("promote")} or roll back with ${run("abort")}`;
    case "start-one":
      return `; start one with \`${COMMAND} rollout --stack ${stack} --version <version>\``;
    case "promote-or-abort":
      return `; use \`${COMMAND} promote\` or \`${COMMAND} abort\` instead of set-weight`;
    case "retry-abort":
      return ` — retry with ${run("abort")}`;
  }
}

/** An error's message with what to run next, when it says. */
export function errorMessage(err: Error): string {
  const next = err instanceof DriverError ? err.next : undefined;
  return next === undefined ? err.message : err.message + nextStepText(next.step, next.stack);
}

/** The lines `plan` prints for the release a rollout would run. */
function preTrafficNote(release: ReleaseState): string {
  const header = probeHeaderOf(release.gates);
  return header
    ? `, then probe it through the header "${formatCanaryHeader(header)}" before any user traffic (pre-traffic check; anything but a pass rolls back)`
    : "";
}

export function describePlan(release: ReleaseState): string[] {
  const gates = gateNames(release.gates).join(", ");
  const { version, canaryColor: canary, stableColor: stable } = release;
  return [
    `release ${version} on ${canary}; ${stable} keeps ${release.previousVersion} as stable`,
    `0. deploy ${version} to the ${canary} task set at 0% (scale 100%) and wait until it is healthy${preTrafficNote(release)}`,
    ...release.steps.map(
      (s, i) =>
        `${i + 1}. ${s.weight}% to ${canary}, hold ${formatDuration(s.bakeMs)}; gates: ${gates}`,
    ),
    `${release.steps.length + 1}. promote: ${canary} becomes stable at 100%; ${stable} scales down after ${formatDuration(release.scaleDownDelayMs)}`,
    `steps: ${describeSteps(release.steps)}; a failed gate or update rolls back to 0%`,
    release.keepCanary === true
      ? `a rollback keeps ${canary} (${version}) running for debugging (--keep-canary); if that rollback update fails, it is retried once with ${canary} scaled to 0`
      : `a rollback scales ${canary} (${version}) to 0 in the same update (--keep-canary keeps it running)`,
  ];
}
