import * as readline from "readline";
import { Approver, GateContext } from "../release/ports";

/** Asks at the terminal; without one (CI), nobody can be asked and the release pauses. */
export class TerminalApprover implements Approver {
  constructor(private readonly interactive: boolean) {}

  async ask({
    release,
    stepIndex,
    step,
  }: GateContext): Promise<"approved" | "rejected" | "unavailable"> {
    if (!this.interactive) return "unavailable";
    const next = release.steps[stepIndex + 1];
    const question = next
      ? `Step ${stepIndex + 1} (${step.weight}%) passed its gates. Go on to ${next.weight}%? [y/N] `
      : `Step ${stepIndex + 1} (${step.weight}%) passed its gates. Promote ${release.version}? [y/N] `;
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
      return /^y(es)?$/i.test(answer.trim()) ? "approved" : "rejected";
    } finally {
      rl.close();
    }
  }
}
