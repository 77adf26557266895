import { expect } from "chai";
import {
  DriverError,
  InfrastructureError,
  NextStep,
  ReleaseInProgressError,
  UsageError,
} from "../../../automation/release/errors";
import { errorMessage } from "../../../automation/cli/text";

describe("CLI text: what to run next after an error", () => {
  const hint = (step: NextStep) =>
    errorMessage(new DriverError("the driver's statement", { step, stack: "dev" }));

  it("names each command with the stack it is for", () => {
    expect(hint("continue-or-stop")).to.equal(
      "the driver's statement; continue it with `npx ecs-canary promote --stack dev` or stop it with `npx ecs-canary abort --stack dev`",
    );
    expect(hint("approve-or-roll-back")).to.equal(
      "the driver's statement; approve with `npx ecs-canary promote --stack dev` or roll back with `npx ecs-canary abort --stack dev`",
    );
    expect(hint("start-one")).to.equal(
      "the driver's statement; start one with `npx ecs-canary rollout --stack dev --version <version>`",
    );
    expect(hint("promote-or-abort")).to.equal(
      "the driver's statement; use `npx ecs-canary promote` or `npx ecs-canary abort` instead of set-weight",
    );
    expect(hint("retry-abort")).to.equal(
      "the driver's statement — retry with `npx ecs-canary abort --stack dev`",
    );
  });

  it("leaves an error without a next step as it is", () => {
    expect(errorMessage(new UsageError("the release has no steps"))).to.equal(
      "the release has no steps",
    );
    expect(errorMessage(new Error("plain"))).to.equal("plain");
  });

  it("keeps the error kinds the exit codes depend on", () => {
    const next = { step: "retry-abort" as const, stack: "dev" };
    expect(new InfrastructureError("x", next)).to.be.instanceOf(DriverError);
    expect(new ReleaseInProgressError("x").name).to.equal("ReleaseInProgressError");
    expect(new UsageError("x").name).to.equal("UsageError");
  });
});
