import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ReleaseInProgressError } from "../release/errors";
import { isAlive } from "../stack/processes";

interface Holder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

/**
 * One driver per stack on this machine: an exclusive lock file holding the
 * driver's pid. A lock left by a process that no longer runs (kill -9) is taken over.
 */
export class DriverLock {
  private constructor(private readonly file: string) {}

  static acquire(dir: string, stackName: string, command: string): DriverLock {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${stackName.replace(/[^\w.-]/g, "_")}.lock`);
    const me: Holder = {
      pid: process.pid,
      host: os.hostname(),
      command,
      since: new Date().toISOString(),
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, JSON.stringify(me), { flag: "wx" });
        return new DriverLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      let holder: Holder | undefined;
      try {
        holder = JSON.parse(fs.readFileSync(file, "utf8")) as Holder;
      } catch {
        holder = undefined;
      }
      if (holder && holder.host === me.host && isAlive(holder.pid)) {
        throw new ReleaseInProgressError(
          `a release is in progress on stack ${stackName}: \`${holder.command}\` (pid ${holder.pid}) has been running since ${holder.since}; ` +
            `wait for it, stop it with Ctrl-C, or roll back with \`ecs-canary abort --stack ${stackName}\``,
        );
      }
      fs.rmSync(file, { force: true });
    }
    throw new ReleaseInProgressError(
      `could not lock stack ${stackName} (${file}); another driver took it meanwhile`,
    );
  }

  release(): void {
    fs.rmSync(this.file, { force: true });
  }
}
