import { expect } from "chai";
import { sleep } from "../../../automation/cli/clock";

describe("sleep", () => {
  it("waits the whole time in timer-sized pieces", async () => {
    const started = Date.now();
    await sleep(120, undefined, 25);
    expect(Date.now() - started).to.be.at.least(120);
  });

  it("ends early when the signal aborts, also in a later piece", async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 60);
    await sleep(10_000, controller.signal, 25);
    expect(Date.now() - started).to.be.within(55, 1000);
  });

  it("returns at once for an aborted signal or no time", async () => {
    const controller = new AbortController();
    controller.abort();
    const started = Date.now();
    await sleep(10_000, controller.signal);
    await sleep(0);
    expect(Date.now() - started).to.be.below(50);
  });
});
