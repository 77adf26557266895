import { randomBytes } from "crypto";
import * as os from "os";
import { formatDuration } from "../release/duration";
import { ReleaseInProgressError, UsageError } from "../release/errors";
import { StackPort } from "./port";

/** The stack tag that holds the driver's lease (a tag value holds at most 256 characters). */
export const LEASE_TAG = "ecs-canary.lease";

/** Who drives the stack's release, and since when (epoch ms). */
export interface LeaseHolder {
  host: string;
  pid: number;
  command: string;
  since: number;
  /** The holder's last heartbeat. */
  beat: number;
  /** Tells this holder from another with the same host and pid. */
  token: string;
}

export interface LeaseTiming {
  /** A lease whose holder has not beaten for this long is taken over. */
  expiryMs: number;
  /** How often the holder renews its lease (and checks it still holds it). */
  heartbeatMs: number;
  /** How long a new holder waits before reading its lease back. */
  settleMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = {
  expiryMs: 60_000,
  heartbeatMs: 15_000,
  settleMs: 2_000,
};

function positiveMs(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) <= 0) {
    throw new UsageError(`invalid ${name} ${JSON.stringify(raw)}: a whole number of ms above 0`);
  }
  return Number(raw);
}

/** The lease's timing: the defaults, or ECS_CANARY_LEASE_{EXPIRY,HEARTBEAT,SETTLE}_MS. */
export function leaseTiming(env: NodeJS.ProcessEnv = process.env): LeaseTiming {
  const d = DEFAULT_LEASE_TIMING;
  const timing = {
    expiryMs: positiveMs("ECS_CANARY_LEASE_EXPIRY_MS", env.ECS_CANARY_LEASE_EXPIRY_MS, d.expiryMs),
    heartbeatMs: positiveMs(
      "ECS_CANARY_LEASE_HEARTBEAT_MS",
      env.ECS_CANARY_LEASE_HEARTBEAT_MS,
      d.heartbeatMs,
    ),
    settleMs: positiveMs("ECS_CANARY_LEASE_SETTLE_MS", env.ECS_CANARY_LEASE_SETTLE_MS, d.settleMs),
  };
  if (timing.heartbeatMs * 2 > timing.expiryMs) {
    throw new UsageError(
      `invalid lease timing: heartbeat ${timing.heartbeatMs} ms must be at most half the expiry ${timing.expiryMs} ms`,
    );
  }
  return timing;
}

/** The lease as a tag value: compact JSON of at most 256 characters (the command is cut). */
export function encodeLease(holder: LeaseHolder): string {
  const value = (command: string) =>
    JSON.stringify({
      h: holder.host,
      p: holder.pid,
      c: command,
      s: holder.since,
      b: holder.beat,
      t: holder.token,
    });
  let command = holder.command;
  while (value(command).length > 256 && command.length > 0) command = command.slice(0, -8);
  return value(command);
}

export function parseLease(value: string | undefined): LeaseHolder | undefined {
  if (value === undefined) return undefined;
  try {
    const v = JSON.parse(value) as Record<string, unknown>;
    if (typeof v.h !== "string" || typeof v.p !== "number" || typeof v.b !== "number") {
      return undefined;
    }
    return {
      host: v.h,
      pid: v.p,
      command: String(v.c ?? ""),
      since: Number(v.s),
      beat: v.b,
      token: String(v.t ?? ""),
    };
  } catch {
    return undefined;
  }
}

/**
 * Whether another driver may take the lease over: its holder has not beaten for the expiry.
 * Only the heartbeat counts, also for a holder whose host name is this machine's: containers
 * on different machines may share a host name, so its pid says nothing here.
 */
export function isStale(holder: LeaseHolder, now: number, timing: LeaseTiming): boolean {
  return now - holder.beat > timing.expiryMs;
}

/** Who holds the lease, for people: command, pid, host, since when, last heartbeat. */
export function describeHolder(holder: LeaseHolder, now: number): string {
  return (
    `\`${holder.command}\` (pid ${holder.pid} on ${holder.host}) has held it since ` +
    `${new Date(holder.since).toISOString()}, last heartbeat ${Math.round(Math.max(0, now - holder.beat) / 1000)}s ago`
  );
}

export interface LeaseHooks {
  /** Told when a stale lease is taken over. */
  onTakeover?: (previous: LeaseHolder) => void;
  /** Told when a heartbeat finds the lease held by another driver: this one must stop. */
  onLost?: (holder: LeaseHolder | undefined) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

type TagPort = Pick<StackPort, "name" | "listTags" | "setTag" | "removeTag">;

/**
 * One driver per stack, wherever it runs: a lease in the stack's tags with its holder (host,
 * pid, command), start time and heartbeat. Acquiring writes the lease, waits `settleMs` and
 * reads it back: of drivers that start at once, the one whose write landed last holds it, the
 * others see it and are refused. Backends have no compare-and-swap on tags, so two drivers
 * whose writes land more than `settleMs` apart after both read an empty lease could both go
 * on; Pulumi's own update lock still keeps their updates from running at once, and the
 * release record's check (TagReleaseStore) stops the one whose record is overwritten.
 */
export class StackLease {
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;
  private stopped = false;

  private constructor(
    private readonly stack: TagPort,
    private holder: LeaseHolder,
    private readonly timing: LeaseTiming,
    private readonly hooks: LeaseHooks,
  ) {}

  static async acquire(
    stack: TagPort,
    command: string,
    timing: LeaseTiming,
    hooks: LeaseHooks = {},
  ): Promise<StackLease> {
    const now = hooks.now ?? Date.now;
    const sleep = hooks.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
    const refuse = (holder: LeaseHolder) =>
      new ReleaseInProgressError(
        `a driver holds stack ${stack.name}: ${describeHolder(holder, now())}; wait for it, ` +
          `stop it with Ctrl-C, or roll back with \`ecs-canary abort --stack ${stack.name}\` ` +
          `(a driver that stopped beating is taken over ${formatDuration(timing.expiryMs)} after its last heartbeat)`,
      );
    const current = parseLease((await stack.listTags())[LEASE_TAG]);
    if (current !== undefined && !isStale(current, now(), timing)) throw refuse(current);
    const started = now();
    const mine: LeaseHolder = {
      host: os.hostname(),
      pid: process.pid,
      command,
      since: started,
      beat: started,
      token: randomBytes(6).toString("base64url"),
    };
    await stack.setTag(LEASE_TAG, encodeLease(mine));
    await sleep(timing.settleMs);
    const after = parseLease((await stack.listTags())[LEASE_TAG]);
    if (after?.token !== mine.token) {
      if (after !== undefined) throw refuse(after);
      throw new ReleaseInProgressError(
        `could not take the lease of stack ${stack.name}: another command removed it meanwhile; try again`,
      );
    }
    if (current !== undefined) hooks.onTakeover?.(current);
    const lease = new StackLease(stack, mine, timing, hooks);
    lease.schedule();
    return lease;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.beating = this.beat().finally(() => this.schedule());
    }, this.timing.heartbeatMs);
    this.timer.unref();
  }

  /** Renews the lease if this driver still holds it; tells onLost otherwise. */
  private async beat(): Promise<void> {
    try {
      const holder = parseLease((await this.stack.listTags())[LEASE_TAG]);
      if (this.stopped) return;
      if (holder?.token !== this.holder.token) {
        this.stopped = true;
        this.hooks.onLost?.(holder);
        return;
      }
      this.holder = { ...this.holder, beat: (this.hooks.now ?? Date.now)() };
      await this.stack.setTag(LEASE_TAG, encodeLease(this.holder));
    } catch {
      // The backend did not answer: the next beat tries again; the lease expires if none lands.
    }
  }

  /** Stops beating and removes the lease if this driver still holds it. */
  async release(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.beating;
    const holder = parseLease((await this.stack.listTags())[LEASE_TAG]);
    if (holder?.token === this.holder.token) await this.stack.removeTag(LEASE_TAG);
  }
}
