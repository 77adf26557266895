import { expect } from "chai";
import {
  headerRouteFor,
  headerValueMatches,
  parseCanaryHeader,
} from "../../../infra/contract/canaryHeader";

const refuse = (allowed: string) => new Error(allowed);

describe("canary header", () => {
  it("parses Name: value, trimming around both, and empty as none", () => {
    expect(parseCanaryHeader("  X-Canary :  always ", refuse)).to.deep.equal({
      name: "X-Canary",
      value: "always",
    });
    expect(parseCanaryHeader("X-Canary: a: b", refuse)).to.deep.equal({
      name: "X-Canary",
      value: "a: b",
    });
    expect(parseCanaryHeader("", refuse)).to.equal(undefined);
  });

  it("takes a 40-character name and a 128-character value, not one more", () => {
    expect(parseCanaryHeader(`${"n".repeat(40)}: ${"v".repeat(128)}`, refuse)).to.not.equal(
      undefined,
    );
    expect(() => parseCanaryHeader(`${"n".repeat(41)}: v`, refuse)).to.throw();
    expect(() => parseCanaryHeader(`n: ${"v".repeat(129)}`, refuse)).to.throw();
  });

  const matches: [string, string, boolean][] = [
    ["always", "ALWAYS", true],
    ["always", "always ", false],
    ["tester-*", "tester-", true],
    ["tester-*", "tester-anna", true],
    ["tester-?", "tester-12", false],
    ["a.b", "aXb", false],
    ["a.b", "a.b", true],
    ["(x)+", "(x)+", true],
    ["(x)+", "xx", false],
  ];
  for (const [pattern, actual, expected] of matches) {
    it(`${JSON.stringify(pattern)} ${expected ? "matches" : "does not match"} ${JSON.stringify(actual)}`, () => {
      expect(headerValueMatches(pattern, actual)).to.equal(expected);
    });
  }

  it("routes to the colour that is not stable, only while it has tasks", () => {
    const canaryHeader = { name: "X-Canary", value: "always" };
    expect(headerRouteFor({ canaryHeader, canaryColor: "blue", canaryScale: 100 })).to.deep.equal({
      ...canaryHeader,
      color: "blue",
    });
    expect(headerRouteFor({ canaryHeader, canaryColor: "blue", canaryScale: 0 })).to.equal(
      undefined,
    );
    expect(headerRouteFor({ canaryColor: "blue", canaryScale: 100 })).to.equal(undefined);
  });
});
