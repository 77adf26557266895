import * as http from "http";

/**
 * A bounded HTTP client for tests: sends GET requests to a loopback URL and
 * tallies answers by version (the sample service's x-app-version header) and
 * status; anything that is not an HTTP answer is a failure.
 */
export interface Tally {
  sent: number;
  byVersion: Record<string, number>;
  byStatus: Record<string, number>;
  /** Per version, how many answers were 5xx. */
  errors5xxByVersion: Record<string, number>;
  failures: string[];
}

export function emptyTally(): Tally {
  return { sent: 0, byVersion: {}, byStatus: {}, errors5xxByVersion: {}, failures: [] };
}

function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

function getOnce(
  url: string,
  agent: http.Agent,
  timeoutMs: number,
): Promise<{ status: number; version: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      res.resume();
      res.on("error", reject);
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          version: String(res.headers["x-app-version"] ?? "none"),
        }),
      );
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

export interface TrafficOptions {
  concurrency?: number;
  /** Stop after this many requests. */
  maxRequests: number;
  /** Stop after this long, whatever the count. */
  maxMs: number;
  timeoutMs?: number;
  /** Pause of each worker between its requests. */
  pauseMs?: number;
}

export interface RunningTraffic {
  readonly tally: Tally;
  /** Stops sending and resolves once every request in flight has its answer. */
  stop(): Promise<Tally>;
  /** Resolves when the count or time bound is reached. */
  done: Promise<Tally>;
}

/** Sends requests until stopped or a bound is reached. */
export function startTraffic(url: string, options: TrafficOptions): RunningTraffic {
  const tally = emptyTally();
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency ?? 8 });
  const deadline = Date.now() + options.maxMs;
  let stopped = false;
  const worker = async () => {
    while (!stopped && tally.sent < options.maxRequests && Date.now() < deadline) {
      tally.sent += 1;
      try {
        const { status, version } = await getOnce(url, agent, options.timeoutMs ?? 10_000);
        bump(tally.byStatus, String(status));
        bump(tally.byVersion, version);
        if (status >= 500) bump(tally.errors5xxByVersion, version);
      } catch (err) {
        tally.failures.push((err as Error).message);
      }
      if (options.pauseMs) await sleep(options.pauseMs);
    }
  };
  const done = Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker)).then(() => {
    agent.destroy();
    return tally;
  });
  return {
    tally,
    done,
    stop: () => {
      stopped = true;
      return done;
    },
  };
}

/** Exactly `count` requests (or fewer if `maxMs` runs out first). */
export function sendRequests(
  url: string,
  count: number,
  maxMs = 60_000,
  concurrency = 8,
): Promise<Tally> {
  return startTraffic(url, { maxRequests: count, maxMs, concurrency }).done;
}

export function share(tally: Tally, version: string): number {
  const answered = Object.values(tally.byVersion).reduce((a, b) => a + b, 0);
  return answered === 0 ? 0 : (tally.byVersion[version] ?? 0) / answered;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
