/** Whether a process of this machine is still running. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface StackLockHolder {
  user: string;
  host: string;
  pid: number;
}

/** Who holds the lock that made Pulumi refuse an update ("created by root@vm (pid 123)"). */
export function stackLockHolder(message: string): StackLockHolder | undefined {
  if (!/the stack is currently locked/.test(message)) return undefined;
  const m = /created by ([^@\s]+)@(\S+) \(pid (\d+)\)/.exec(message);
  return m ? { user: m[1], host: m[2], pid: Number(m[3]) } : undefined;
}
