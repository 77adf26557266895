import type { ReleaseState } from "./state";

/**
 * What a person can run next after an error, as data: the CLI phrases it with its own command
 * name (automation/cli/text.ts), so the release knows no command line.
 */
export type NextStep =
  /** A release of another version holds the stack: `promote` continues it, `abort` stops it. */
  | "continue-or-stop"
  /** The release waits for a person: `promote` approves, `abort` rolls back. */
  | "approve-or-roll-back"
  /** Nothing is in progress: `rollout` starts a release. */
  | "start-one"
  /** A release owns the weights: `promote` or `abort` instead of set-weight. */
  | "promote-or-abort"
  /** A rollback failed: `abort` tries it again. */
  | "retry-abort";

/** An error of the driver, with what a person can run next on which stack, when there is something. */
export class DriverError extends Error {
  constructor(
    message: string,
    readonly next?: { step: NextStep; stack: string },
  ) {
    super(message);
  }
}

/** Bad flag, plan or setting given by the user: one clear line, nothing changed. */
export class UsageError extends DriverError {
  constructor(message: string, next?: DriverError["next"]) {
    super(message, next);
    this.name = "UsageError";
  }
}

/** Another driver holds the stack's release. */
export class ReleaseInProgressError extends DriverError {
  constructor(message: string, next?: DriverError["next"]) {
    super(message, next);
    this.name = "ReleaseInProgressError";
  }
}

/** A failed update or a mismatch between what was asked and what the platform applied. */
export class InfrastructureError extends DriverError {
  constructor(message: string, next?: DriverError["next"]) {
    super(message, next);
    this.name = "InfrastructureError";
  }
}

/**
 * The line of an error's text that says what went wrong: the first `error:` line other than
 * Pulumi's closing "error: update failed", without the prefix, else the first non-empty line;
 * at most 600 characters. Pulumi's CLI output, the driver's own errors and anything else a
 * command can fail with are shown to a person through it.
 */
export function errorLine(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const error = lines.find((l) => /^error: /.test(l) && !/^error: update failed$/.test(l));
  return (error ?? lines[0] ?? text).replace(/^error: /, "").slice(0, 600);
}

/**
 * The release's record changed since this run last read or wrote it: another command (an
 * `abort`, say, from another machine) took it over. The run stops without writing.
 */
export class ReleaseChangedError extends DriverError {
  constructor(
    message: string,
    readonly latest?: ReleaseState,
  ) {
    super(message);
    this.name = "ReleaseChangedError";
  }
}
