import { expect } from "chai";
import { percentile } from "../../../infra/local/balancer/percentiles";

describe("percentile (nearest rank)", () => {
  const oneToHundred = Array.from({ length: 100 }, (_, i) => 100 - i);

  it("picks the sample at rank ceil(p x n)", () => {
    expect(percentile(oneToHundred, 50)).to.equal(50);
    expect(percentile(oneToHundred, 90)).to.equal(90);
    expect(percentile(oneToHundred, 99)).to.equal(99);
    expect(percentile(oneToHundred, 100)).to.equal(100);
    expect(percentile([3, 1, 2], 50)).to.equal(2);
    expect(percentile([10, 20], 50)).to.equal(10);
    expect(percentile([10, 20], 51)).to.equal(20);
  });

  it("uses the smallest sample for p 0 and handles a single sample", () => {
    expect(percentile([5, 4], 0)).to.equal(4);
    expect(percentile([7], 99)).to.equal(7);
  });

  it("is undefined without samples and leaves its input unsorted", () => {
    expect(percentile([], 50)).to.equal(undefined);
    const samples = [3, 1, 2];
    percentile(samples, 50);
    expect(samples).to.deep.equal([3, 1, 2]);
  });
});
