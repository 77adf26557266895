import { expect } from "chai";
import { UsageError } from "../../../automation/release/errors";
import { describeSteps, parseSteps, PRESETS, Step } from "../../../automation/release/plan";

const MIN = 60_000;
const ALLOWED =
  "use increasing weights in 1..100 like 10,25,50,100 (optionally 10:5m for a bake time) " +
  "or a preset: Canary10Percent5Minutes, Canary10Percent15Minutes, Linear10PercentEvery1Minutes, " +
  "Linear10PercentEvery3Minutes, AllAtOnce";

function usageError(raw: string): string {
  try {
    parseSteps(raw, 5 * MIN);
  } catch (err) {
    expect(err).to.be.instanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`parseSteps(${JSON.stringify(raw)}) did not throw`);
}

describe("parseSteps", () => {
  describe("presets (CodeDeploy's predefined ECS configurations)", () => {
    it("Canary10Percent5Minutes holds 10 % for 5 minutes, then goes to 100 %", () => {
      expect(parseSteps("Canary10Percent5Minutes", 1234)).to.deep.equal([
        { weight: 10, bakeMs: 5 * MIN },
        { weight: 100, bakeMs: 0 },
      ]);
    });

    it("Canary10Percent15Minutes holds 10 % for 15 minutes, then goes to 100 %", () => {
      expect(parseSteps("Canary10Percent15Minutes", 1234)).to.deep.equal([
        { weight: 10, bakeMs: 15 * MIN },
        { weight: 100, bakeMs: 0 },
      ]);
    });

    it("Linear10PercentEvery1Minutes and Every3Minutes go 10, 20, ... 100 a step per 1 or 3 minutes", () => {
      const weights = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
      expect(parseSteps("Linear10PercentEvery1Minutes", 1234)).to.deep.equal(
        weights.map((weight) => ({ weight, bakeMs: MIN })),
      );
      expect(parseSteps("Linear10PercentEvery3Minutes", 1234)).to.deep.equal(
        weights.map((weight) => ({ weight, bakeMs: 3 * MIN })),
      );
    });

    it("AllAtOnce is a single step at 100 %", () => {
      expect(parseSteps("AllAtOnce", 1234)).to.deep.equal([{ weight: 100, bakeMs: 0 }]);
    });

    it("accepts a preset name with surrounding blanks", () => {
      expect(parseSteps("  AllAtOnce\n", 1234)).to.deep.equal([{ weight: 100, bakeMs: 0 }]);
    });

    it("returns copies: changing a parsed plan leaves the preset alone", () => {
      const steps = parseSteps("Canary10Percent5Minutes", 0);
      steps[0].weight = 50;
      steps.push({ weight: 100, bakeMs: 1 });
      expect(PRESETS.Canary10Percent5Minutes).to.deep.equal([
        { weight: 10, bakeMs: 5 * MIN },
        { weight: 100, bakeMs: 0 },
      ]);
    });

    it("preset names are case-sensitive: a misspelt one gets the usage message", () => {
      expect(usageError("allatonce")).to.equal(
        `invalid --steps "allatonce": step "allatonce" is not N or N:duration; ${ALLOWED}`,
      );
    });

    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      it(`"${name}" (a property every object has) is no preset but a usage error`, () => {
        expect(usageError(name)).to.equal(
          `invalid --steps "${name}": step "${name}" is not N or N:duration; ${ALLOWED}`,
        );
      });
    }
  });

  describe("weight lists", () => {
    it("reads 10,25:5m,100: a step's own bake time, the default for the others", () => {
      expect(parseSteps("10,25:5m,100", 2 * MIN)).to.deep.equal([
        { weight: 10, bakeMs: 2 * MIN },
        { weight: 25, bakeMs: 5 * MIN },
        { weight: 100, bakeMs: 2 * MIN },
      ]);
    });

    it("ignores blanks around steps and the list", () => {
      expect(parseSteps(" 10 , 50:90s , 100:0 ", 30_000)).to.deep.equal([
        { weight: 10, bakeMs: 30_000 },
        { weight: 50, bakeMs: 90_000 },
        { weight: 100, bakeMs: 0 },
      ]);
    });

    it("accepts the bounds 1 and 100, and a single step", () => {
      expect(parseSteps("1,100", 0)).to.deep.equal([
        { weight: 1, bakeMs: 0 },
        { weight: 100, bakeMs: 0 },
      ]);
      expect(parseSteps("100", 7000)).to.deep.equal([{ weight: 100, bakeMs: 7000 }]);
    });

    it("accepts a bare number of seconds as a step's bake time", () => {
      expect(parseSteps("20:45,100", 0)).to.deep.equal([
        { weight: 20, bakeMs: 45_000 },
        { weight: 100, bakeMs: 0 },
      ]);
    });
  });

  describe("bad input: one line naming --steps, the value and what is allowed", () => {
    it("an empty or blank value", () => {
      expect(usageError("")).to.equal(`invalid --steps "": ${ALLOWED}`);
      expect(usageError("   ")).to.equal(`invalid --steps "": ${ALLOWED}`);
    });

    it("a weight of 0 or above 100", () => {
      expect(usageError("0,100")).to.equal(
        `invalid --steps "0,100": weight 0 is outside 1..100; ${ALLOWED}`,
      );
      expect(usageError("10,101")).to.equal(
        `invalid --steps "10,101": weight 101 is outside 1..100; ${ALLOWED}`,
      );
    });

    it("a step that is not a whole number, or has two colons, or is empty", () => {
      expect(usageError("12.5,100")).to.equal(
        `invalid --steps "12.5,100": step "12.5" is not N or N:duration; ${ALLOWED}`,
      );
      expect(usageError("-5,100")).to.equal(
        `invalid --steps "-5,100": step "-5" is not N or N:duration; ${ALLOWED}`,
      );
      expect(usageError("10:5m:1,100")).to.equal(
        `invalid --steps "10:5m:1,100": step "10:5m:1" is not N or N:duration; ${ALLOWED}`,
      );
      expect(usageError("10,,100")).to.equal(
        `invalid --steps "10,,100": step "" is not N or N:duration; ${ALLOWED}`,
      );
      expect(usageError("10%,100")).to.equal(
        `invalid --steps "10%,100": step "10%" is not N or N:duration; ${ALLOWED}`,
      );
    });

    it("weights that do not increase", () => {
      expect(usageError("10,50,50,100")).to.equal(
        `invalid --steps "10,50,50,100": weights must increase, but 50 follows 50`,
      );
      expect(usageError("50,25,100")).to.equal(
        `invalid --steps "50,25,100": weights must increase, but 25 follows 50`,
      );
    });

    it("a bad bake time names the step", () => {
      expect(usageError("10:5x,100")).to.equal(
        `invalid bake time of step 10 "5x": use a duration like 30s, 5m, 1h30m or a number of seconds`,
      );
    });
  });
});

describe("describeSteps", () => {
  it("shows each weight with its bake time, none for a step without one", () => {
    const steps: Step[] = [
      { weight: 10, bakeMs: 5 * MIN },
      { weight: 50, bakeMs: 90_000 },
      { weight: 100, bakeMs: 0 },
    ];
    expect(describeSteps(steps)).to.equal("10%:5m -> 50%:1m30s -> 100%");
  });

  it("reads back through parseSteps to the same plan", () => {
    const steps = parseSteps("10:5m,25:1h30m,50:250ms,100", 0);
    const text = describeSteps(steps).replace(/%/g, "").replace(/ -> /g, ",");
    expect(parseSteps(text, 0)).to.deep.equal(steps);
  });
});
