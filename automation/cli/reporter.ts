import { MultiBar, Presets, SingleBar } from "cli-progress";
import { formatDuration } from "../release/duration";
import { describeEvent, describeGate } from "./describe";
import { DriverEvent } from "./text";

export type OutputMode = "live" | "plain" | "json";

export interface Reporter {
  report(event: DriverEvent): void;
  /** Engine output lines of updates (shown in plain mode only when verbose). */
  engineOutput(text: string): void;
  stop(): void;
}

/** One JSON object per line: the event as the engine emitted it, with a timestamp. */
export class JsonReporter implements Reporter {
  report(event: DriverEvent) {
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
  }
  engineOutput() {}
  stop() {}
}

/** Plain lines, for logs and pipes. */
export class PlainReporter implements Reporter {
  constructor(private readonly verbose: boolean) {}
  report(event: DriverEvent) {
    const line = describeEvent(event);
    if (line) process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  }
  engineOutput(text: string) {
    if (this.verbose) process.stdout.write(text);
  }
  stop() {}
}

/**
 * On a terminal: a bar for the current step (its bake time) with the latest
 * gate readings, and a log of decisions above it.
 */
export class LiveReporter implements Reporter {
  private readonly multibar = new MultiBar(
    {
      format: " {step} [{bar}] {left} | {gates}",
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 24,
      linewrap: false,
    },
    Presets.shades_classic,
  );
  private bar?: SingleBar;

  report(event: DriverEvent) {
    if (event.type === "gates") {
      const { release, results, elapsedMs } = event;
      const step = release.steps[release.stepIndex];
      const total = Math.max(step.bakeMs, 1);
      const payload = {
        step: `step ${release.stepIndex + 1}/${release.steps.length} ${step.weight}% -> ${release.version}`,
        left:
          elapsedMs >= step.bakeMs ? "baked" : `${formatDuration(step.bakeMs - elapsedMs)} left`,
        gates:
          results
            .filter((r) => r.gate !== "bake")
            .map(describeGate)
            .join("; ") || "bake only",
      };
      if (!this.bar) this.bar = this.multibar.create(total, Math.min(elapsedMs, total), payload);
      else {
        this.bar.setTotal(total);
        this.bar.update(Math.min(elapsedMs, total), payload);
      }
      return;
    }
    if (event.type === "step" && this.bar) {
      this.multibar.remove(this.bar);
      this.bar = undefined;
    }
    const line = describeEvent(event);
    if (line) this.multibar.log(`${new Date().toLocaleTimeString()} ${line}\n`);
    if (event.type === "outcome") this.stop();
  }
  engineOutput() {}
  stop() {
    this.multibar.stop();
  }
}

export function createReporter(mode: OutputMode, verbose: boolean): Reporter {
  if (mode === "json") return new JsonReporter();
  if (mode === "live") return new LiveReporter();
  return new PlainReporter(verbose);
}
