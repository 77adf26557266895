import { Clock } from "../../automation/release/ports";

/** Time that passes only when the engine sleeps. */
export class FakeClock implements Clock {
  slept: number[] = [];
  constructor(public t = Date.UTC(2026, 10, 26, 12, 0, 0)) {}
  now() {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal) {
    if (signal?.aborted) return;
    this.slept.push(ms);
    this.t += ms;
  }
}
