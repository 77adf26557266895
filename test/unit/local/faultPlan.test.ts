import { expect } from "chai";
import { shouldInjectError } from "../../../infra/local/sampleService/faultPlan";

function errorsIn(count: number, rate: number, offset = 0): number {
  let errors = 0;
  for (let i = offset; i < offset + count; i++) if (shouldInjectError(i, rate)) errors++;
  return errors;
}

describe("shouldInjectError", () => {
  it("never fails at rate 0 and always fails at rate 1", () => {
    expect(errorsIn(1000, 0)).to.equal(0);
    expect(errorsIn(1000, 1)).to.equal(1000);
  });

  it("fails exactly rate x n of n requests", () => {
    expect(errorsIn(1000, 0.2)).to.equal(200);
    expect(errorsIn(1000, 0.05)).to.equal(50);
    expect(errorsIn(300, 1 / 3)).to.equal(100);
  });

  it("spreads errors evenly: every window of 5 requests at rate 0.2 holds one", () => {
    for (let start = 0; start < 100; start++) expect(errorsIn(5, 0.2, start)).to.equal(1);
  });
});
