import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { checked, checkedWith, idList, settingArg } from "../../../infra/aws/argChecks";
import { checkCanaryHasTasks } from "../../../infra/contract/settings";

/** The value an Output resolves to, or its error (the SDK's own promise, outside its typings). */
function settle<T>(output: pulumi.Input<T>): Promise<T> {
  return (output as unknown as { promise(): Promise<T> }).promise();
}

const positive = (n: number) => {
  if (n <= 0) throw new Error(`${n} is not positive`);
};

describe("component argument checks", () => {
  it("checks a value known now at once: a bad one throws, a good one passes unchanged", () => {
    expect(() => checked(-1, positive)).to.throw("-1 is not positive");
    expect(checked(3, positive)).to.equal(3);
    expect(() => settingArg("desiredCount", 0)).to.throw(
      'invalid setting desiredCount="0": must be an integer from 1 to 100',
    );
    expect(settingArg("desiredCount", undefined), "the setting's fallback").to.equal(2);
  });

  it("checks an Output when it resolves: the Output it returns fails with the check's error", async () => {
    const bad = checked(pulumi.output(-1), positive);
    expect(pulumi.Output.isInstance(bad)).to.equal(true);
    let error: Error | undefined;
    await settle(bad).catch((thrown: Error) => (error = thrown));
    expect(error?.message).to.equal("-1 is not positive");
    expect(await settle(checked(pulumi.output(3), positive))).to.equal(3);
    expect(await settle(checked(Promise.resolve(4), positive))).to.equal(4);
  });

  it("checks a rule over two arguments now when both are known, else when both resolve", async () => {
    expect(() => checkedWith(10, 0, checkCanaryHasTasks)).to.throw(
      'invalid setting canaryWeight="10": must be 0 while canaryScale is 0',
    );
    expect(checkedWith(10, 50, checkCanaryHasTasks)).to.equal(10);
    let error: Error | undefined;
    await settle(checkedWith(10, pulumi.output(0), checkCanaryHasTasks)).catch(
      (thrown: Error) => (error = thrown),
    );
    expect(error?.message).to.match(/^invalid setting canaryWeight="10"/);
  });

  it("names the IDs known now in a message", () => {
    expect(idList(["subnet-a", pulumi.output("subnet-b"), "subnet-c"])).to.equal(
      "subnet-a,?,subnet-c",
    );
  });
});
