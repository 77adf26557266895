import { expect } from "chai";
import { EXIT, EXIT_CODES_HELP, exitCodeFor } from "../../../automation/cli/exitCodes";
import { OutcomeKind } from "../../../automation/release/ports";

describe("exitCodeFor", () => {
  const cases: [OutcomeKind, string, number][] = [
    ["promoted", "rollout", 0],
    ["promoted", "promote", 0],
    ["done", "status", 0],
    ["done", "set-weight", 0],
    ["paused", "rollout", 3],
    ["paused", "promote", 3],
    ["interrupted", "rollout", 130],
    ["rolled-back", "rollout", 1],
    ["rolled-back", "promote", 1],
    ["aborted", "abort", 0],
    ["aborted", "rollout", 1],
    ["aborted", "promote", 1],
  ];
  for (const [kind, command, code] of cases) {
    it(`${command} ending ${kind} exits ${code}`, () => {
      expect(exitCodeFor(kind, command)).to.equal(code);
    });
  }

  it("uses the documented codes", () => {
    expect(EXIT).to.deep.equal({
      ok: 0,
      rolledBack: 1,
      usage: 2,
      paused: 3,
      infrastructure: 4,
      inProgress: 5,
      interrupted: 130,
    });
  });

  it("the help text lists every exit code once, in increasing order", () => {
    const listed = EXIT_CODES_HELP.split("\n")
      .slice(1)
      .map((line) => Number(/^ {2}(\d+) +\S/.exec(line)?.[1]));
    expect(EXIT_CODES_HELP.split("\n")[0]).to.equal("Exit codes:");
    expect(listed).to.deep.equal([0, 1, 2, 3, 4, 5, 130]);
    expect(listed).to.deep.equal(Object.values(EXIT).sort((a, b) => a - b));
  });
});
