import { OutcomeKind } from "../release/ports";

/** Exit codes of the driver; documented in --help and the README. */
export const EXIT = {
  /** Promoted, or the command did what it was asked. */
  ok: 0,
  /** The release was rolled back (a gate failed, an update failed, weights did not match, or aborted). */
  rolledBack: 1,
  /** Bad flag, plan or setting: nothing was changed. */
  usage: 2,
  /** Paused awaiting a person's approval or more data (a step short of data or undecided): `promote` goes on, `abort` rolls back. */
  paused: 3,
  /** The platform or Pulumi failed in a way the driver could not roll back from. */
  infrastructure: 4,
  /** Another driver is working on the stack's release. */
  inProgress: 5,
  /** Stopped by Ctrl-C; the stable version keeps serving. */
  interrupted: 130,
} as const;

export function exitCodeFor(kind: OutcomeKind, command: string): number {
  switch (kind) {
    case "promoted":
    case "done":
      return EXIT.ok;
    case "paused":
      return EXIT.paused;
    case "interrupted":
      return EXIT.interrupted;
    case "aborted":
      return command === "abort" ? EXIT.ok : EXIT.rolledBack;
    case "rolled-back":
      return EXIT.rolledBack;
  }
}

export const EXIT_CODES_HELP = [
  "Exit codes:",
  "  0   promoted, or the command did what it was asked",
  "  1   rolled back (failed gate, failed update, weight mismatch, or aborted meanwhile)",
  "  2   usage error: bad flag, plan or setting; nothing changed",
  "  3   paused awaiting approval or more data: continue with `promote`, roll back with `abort`",
  "  4   infrastructure error: Pulumi or the platform failed; the message says how to go on",
  "  5   another driver is working on this stack's release",
  "  130 interrupted (Ctrl-C); the stable version keeps serving",
].join("\n");
