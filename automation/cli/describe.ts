import { GateResult } from "../release/ports";
import { formatDuration } from "../release/duration";
import { currentWeight, ReleaseState } from "../release/state";
import { DriverEvent } from "./text";

/** Human lines for the driver's events (plain output and the live view's log). */
export function describeEvent(event: DriverEvent): string | undefined {
  switch (event.type) {
    case "release":
      return (
        `${event.resumed ? "resuming" : "starting"} release of ${event.release.version} on ${event.release.canaryColor} ` +
        `(stable ${event.release.stableColor} ${event.release.previousVersion}), steps ${event.release.steps.map((s) => `${s.weight}%`).join(" ")}` +
        (event.resumed ? ` at ${describePosition(event.release)}` : "")
      );
    case "update-started":
      return `update: ${event.purpose}`;
    case "update-finished":
      return `update done in ${formatDuration(event.durationMs)}: weights blue ${event.weights.blue}% / green ${event.weights.green}%`;
    case "step":
      return event.release.status === "promoted"
        ? undefined
        : `step ${event.release.stepIndex + 1}/${event.release.steps.length}: ${currentWeight(event.release)}% to ${event.release.version}`;
    case "gates":
      return `gates at ${formatDuration(event.elapsedMs)}: ${event.results.map(describeGate).join("; ")}`;
    case "decision":
      return `decision: ${event.decision.gate} ${event.decision.verdict}: ${event.decision.reason}`;
    case "outcome":
      return `${event.outcome.kind}: ${event.outcome.message}`;
  }
}

export function describeGate(result: GateResult): string {
  return `${result.gate} ${result.verdict} (${result.reason})`;
}

export function describePosition(release: ReleaseState): string {
  if (release.phase === "deploying") return "deploying at 0%";
  if (release.status === "promoted" || release.phase === "promoting") return release.phase;
  return `step ${release.stepIndex + 1} of ${release.steps.length} (${currentWeight(release)}%, ${release.phase})`;
}
