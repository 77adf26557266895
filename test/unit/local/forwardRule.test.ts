import { expect } from "chai";
import {
  parseForwardRule,
  parseTarget,
  RuleError,
} from "../../../infra/local/balancer/forwardRule";

const group = (id: string, weight: number, targets: unknown[] = ["http://127.0.0.1:4001"]) => ({
  id,
  weight,
  targets,
});

describe("parseForwardRule", () => {
  it("accepts 1-5 groups with weights 0-999 and loopback targets, normalised", () => {
    const rule = parseForwardRule({
      groups: [group("blue", 999, ["http://localhost:4001/"]), group("green", 0, [])],
    });
    expect(rule).to.deep.equal({
      groups: [
        { id: "blue", weight: 999, targets: ["http://localhost:4001"] },
        { id: "green", weight: 0, targets: [] },
      ],
    });
  });

  const refusals: [string, unknown, RegExp][] = [
    ["a body that is not an object", "x", /groups array/],
    ["no groups", { groups: [] }, /1 to 5 target groups, got 0/],
    ["six groups", { groups: [1, 2, 3, 4, 5, 6].map((i) => group(`g${i}`, 1)) }, /got 6/],
    [
      "a weight above 999",
      { groups: [group("a", 1000)] },
      /groups\[0\]\.weight .* 0 to 999, got 1000/,
    ],
    ["a fractional weight", { groups: [group("a", 1.5)] }, /weight/],
    ["a repeated group id", { groups: [group("a", 1), group("a", 1)] }, /repeat a target group id/],
    ["an empty id", { groups: [group(" ", 1)] }, /groups\[0\]\.id/],
    [
      "a repeated target",
      { groups: [group("a", 1, ["http://127.0.0.1:1", "http://127.0.0.1:1/"])] },
      /repeat a target/,
    ],
    [
      "targets that are not a list",
      { groups: [{ id: "a", weight: 1, targets: "x" }] },
      /targets must be an array/,
    ],
  ];
  for (const [what, body, message] of refusals) {
    it(`refuses ${what}`, () => {
      expect(() => parseForwardRule(body)).to.throw(RuleError, message);
    });
  }
});

describe("parseTarget", () => {
  it("refuses targets off loopback, without a port, with a path or of another scheme", () => {
    for (const raw of [
      "http://10.0.0.1:80",
      "http://127.0.0.1",
      "http://127.0.0.1:80/x",
      "https://127.0.0.1:443",
      "http://127.0.0.1:80?q=1",
      42,
      "not a url",
    ]) {
      expect(() => parseTarget(raw, "t"), String(raw)).to.throw(
        RuleError,
        /^t must be a loopback URL/,
      );
    }
  });
});
