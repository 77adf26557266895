import { expect } from "chai";
import { formatDuration, parseDuration } from "../../../automation/release/duration";
import { UsageError } from "../../../automation/release/errors";

const HINT = "use a duration like 30s, 5m, 1h30m or a number of seconds";

function usageError(what: string, raw: string): string {
  try {
    parseDuration(what, raw);
  } catch (err) {
    expect(err).to.be.instanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`parseDuration(${JSON.stringify(raw)}) did not throw`);
}

describe("parseDuration", () => {
  const cases: [string, number][] = [
    ["250ms", 250],
    ["90s", 90_000],
    ["5m", 300_000],
    ["2h", 7_200_000],
    ["1h30m", 5_400_000],
    ["1m30s", 90_000],
    ["1h0m5s", 3_605_000],
    ["1.5m", 90_000],
    ["0.25s", 250],
    ["45", 45_000],
    ["1.5", 1500],
    ["0", 0],
    ["0s", 0],
    [" 5m ", 300_000],
  ];
  for (const [raw, ms] of cases) {
    it(`reads ${JSON.stringify(raw)} as ${ms} ms`, () => {
      expect(parseDuration("--bake", raw)).to.equal(ms);
    });
  }

  it("rounds to whole milliseconds", () => {
    expect(parseDuration("--bake", "0.0004")).to.equal(0);
    expect(parseDuration("--bake", "1.0006s")).to.equal(1001);
  });

  const bad = ["", "   ", "5 m", "-5s", "1d", "m", "5min", "1e3", "5m junk", ".5s", "1h-30m"];
  for (const raw of bad) {
    it(`refuses ${JSON.stringify(raw)} naming the setting, the value and the forms allowed`, () => {
      expect(usageError("--webhook-timeout", raw)).to.equal(
        `invalid --webhook-timeout "${raw}": ${HINT}`,
      );
    });
  }
});

describe("formatDuration", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [-5, "0s"],
    [1, "1ms"],
    [250, "250ms"],
    [999, "999ms"],
    [1000, "1s"],
    [59_000, "59s"],
    [60_000, "1m"],
    [90_000, "1m30s"],
    [3_600_000, "1h"],
    [3_661_000, "1h1m1s"],
    [5_400_000, "1h30m"],
    [3_605_000, "1h5s"],
    [86_400_000, "24h"],
  ];
  for (const [ms, text] of cases) {
    it(`formats ${ms} ms as ${text}`, () => {
      expect(formatDuration(ms)).to.equal(text);
    });
  }

  it("rounds above a second to whole seconds", () => {
    expect(formatDuration(1499)).to.equal("1s");
    expect(formatDuration(1500)).to.equal("2s");
    expect(formatDuration(59_600)).to.equal("1m");
  });
});

describe("parseDuration(formatDuration(ms)) round trip", () => {
  it("gives back every whole number of seconds and every duration under a second", () => {
    const values = [0, 1, 250, 999, 1000, 59_000, 60_000, 61_000, 3_599_000, 3_600_000];
    for (let s = 1; s < 10_000; s += 37) values.push(s * 1000);
    values.push(3_661_000, 5_400_000, 86_400_000, 90_061_000);
    for (const ms of values) {
      expect(parseDuration("x", formatDuration(ms)), `${ms} -> ${formatDuration(ms)}`).to.equal(ms);
    }
  });

  it("gives back what was written for the usual forms", () => {
    for (const text of ["30s", "5m", "1h30m", "250ms", "1m30s", "2h", "1h1m1s"]) {
      expect(formatDuration(parseDuration("x", text))).to.equal(text);
    }
  });
});
