import * as http from "http";

export interface LoadStats {
  sent: number;
  ok: number;
  /** 5xx answers. */
  errors: number;
  /** No answer (connection refused, reset, timeout). */
  failed: number;
  /** Successful answers by body (the sample service answers with its version). */
  byBody: Map<string, number>;
}

/**
 * Sends GET requests at a steady rate to feed the gates on the local stack.
 * Requests are spread evenly in time and at most `maxInFlight` wait at once.
 */
export class TrafficGenerator {
  readonly stats: LoadStats = { sent: 0, ok: 0, errors: 0, failed: 0, byBody: new Map() };
  private timer?: NodeJS.Timeout;
  private inFlight = 0;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  constructor(
    private readonly url: string,
    private readonly rps: number,
    private readonly maxInFlight = 200,
  ) {
    if (!(rps > 0 && rps <= 2000))
      throw new RangeError(`--load must be from 1 to 2000 requests a second, got ${rps}`);
  }

  start(): void {
    const started = Date.now();
    this.timer = setInterval(() => {
      const due = Math.floor(((Date.now() - started) / 1000) * this.rps) - this.stats.sent;
      for (let i = 0; i < due && this.inFlight < this.maxInFlight; i++) this.send();
    }, 20);
  }

  private send(): void {
    this.stats.sent++;
    this.inFlight++;
    const req = http.get(this.url, { agent: this.agent, timeout: 10_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        this.inFlight--;
        if ((res.statusCode ?? 0) >= 500) this.stats.errors++;
        else {
          this.stats.ok++;
          const key = body.trim().slice(0, 80);
          this.stats.byBody.set(key, (this.stats.byBody.get(key) ?? 0) + 1);
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => {
      this.inFlight--;
      this.stats.failed++;
    });
  }

  /** Stops sending and waits (bounded) for requests in flight. */
  async stop(): Promise<LoadStats> {
    if (this.timer) clearInterval(this.timer);
    const deadline = Date.now() + 10_000;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.agent.destroy();
    return this.stats;
  }
}
