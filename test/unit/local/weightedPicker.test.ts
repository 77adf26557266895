import { expect } from "chai";
import { RoundRobin, SmoothWeightedPicker } from "../../../infra/local/balancer/weightedPicker";

function counts(picks: (string | undefined)[]): Record<string, number> {
  const result: Record<string, number> = {};
  for (const p of picks) result[String(p)] = (result[String(p)] ?? 0) + 1;
  return result;
}

describe("SmoothWeightedPicker", () => {
  it("gives every candidate exactly its weight over one cycle of sum(weights) picks", () => {
    const picker = new SmoothWeightedPicker();
    const groups = [
      { id: "stable", weight: 70 },
      { id: "canary", weight: 30 },
    ];
    const picks = Array.from({ length: 100 }, () => picker.pick(groups));
    expect(counts(picks)).to.deep.equal({ stable: 70, canary: 30 });
  });

  it("interleaves picks instead of sending a burst to one candidate", () => {
    const picker = new SmoothWeightedPicker();
    const picks = Array.from({ length: 7 }, () =>
      picker.pick([
        { id: "a", weight: 5 },
        { id: "b", weight: 1 },
        { id: "c", weight: 1 },
      ]),
    );
    expect(picks).to.deep.equal(["a", "a", "b", "a", "c", "a", "a"]);
  });

  it("keeps exact shares for uneven weights over many cycles", () => {
    const picker = new SmoothWeightedPicker();
    const groups = [
      { id: "x", weight: 3 },
      { id: "y", weight: 997 },
    ];
    const picks = Array.from({ length: 5000 }, () => picker.pick(groups));
    expect(counts(picks)).to.deep.equal({ x: 15, y: 4985 });
  });

  it("never picks a candidate with weight 0 and returns undefined when none has weight", () => {
    const picker = new SmoothWeightedPicker();
    const picks = Array.from({ length: 50 }, () =>
      picker.pick([
        { id: "all", weight: 100 },
        { id: "none", weight: 0 },
      ]),
    );
    expect(counts(picks)).to.deep.equal({ all: 50 });
    expect(picker.pick([{ id: "none", weight: 0 }])).to.equal(undefined);
    expect(picker.pick([])).to.equal(undefined);
  });

  it("starts over after reset", () => {
    const picker = new SmoothWeightedPicker();
    const groups = [
      { id: "a", weight: 1 },
      { id: "b", weight: 1 },
    ];
    picker.pick(groups);
    picker.reset();
    expect(picker.pick(groups)).to.equal("a");
  });
});

describe("RoundRobin", () => {
  it("cycles through the items of each key independently", () => {
    const rr = new RoundRobin();
    const a = Array.from({ length: 5 }, () => rr.pick("a", ["a1", "a2"]));
    const b = Array.from({ length: 3 }, () => rr.pick("b", ["b1", "b2", "b3"]));
    expect(a).to.deep.equal(["a1", "a2", "a1", "a2", "a1"]);
    expect(b).to.deep.equal(["b1", "b2", "b3"]);
  });

  it("copes with the list shrinking between picks and with an empty list", () => {
    const rr = new RoundRobin();
    rr.pick("k", [1, 2, 3]);
    rr.pick("k", [1, 2, 3]);
    expect(rr.pick("k", [1, 2, 3])).to.equal(3);
    expect(rr.pick("k", [1])).to.equal(1);
    expect(rr.pick("k", [])).to.equal(undefined);
  });
});
