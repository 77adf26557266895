import { expect } from "chai";
import { errorLine } from "../../../automation/release/errors";

describe("errorLine", () => {
  it("takes the line of Pulumi's output that says what went wrong, without its prefix", () => {
    const output = [
      "Updating (dev):",
      "    pulumi:pulumi:Stack ecs-canary-dev running",
      "  error: creating ECS Task Set: InvalidParameterException: Unable to assume role",
      "error: update failed",
    ].join("\n");
    expect(errorLine(output)).to.equal(
      "creating ECS Task Set: InvalidParameterException: Unable to assume role",
    );
  });

  it("falls back to Pulumi's closing line when nothing else says more", () => {
    expect(errorLine("\n  error: update failed\n")).to.equal("update failed");
  });

  it("takes the first line that is not blank otherwise", () => {
    expect(errorLine("\n\n  the stack is currently locked by 1 lock(s)\n  more\n")).to.equal(
      "the stack is currently locked by 1 lock(s)",
    );
  });

  it("keeps one line short", () => {
    expect(errorLine(`error: ${"x".repeat(1000)}`)).to.have.length(600);
  });
});
