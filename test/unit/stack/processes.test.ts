import { expect } from "chai";
import { spawnSync } from "child_process";
import { isAlive, stackLockHolder } from "../../../automation/stack/processes";

describe("stack lock holder", () => {
  it("reads who holds the lock from Pulumi's refusal", () => {
    const message = [
      "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.",
      "  file:///x/.pulumi/locks/organization/ecs-canary/local/749b.json?no_tmp_dir=true: created by root@vm (pid 23501) at 2026-11-26T06:15:34Z",
    ].join("\n");
    expect(stackLockHolder(message)).to.deep.equal({ user: "root", host: "vm", pid: 23501 });
  });

  it("says nothing for other errors", () => {
    expect(stackLockHolder("error: update failed: created by root@vm (pid 1)")).to.equal(undefined);
  });

  it("tells a running process from one that has exited", () => {
    expect(isAlive(process.pid)).to.equal(true);
    const child = spawnSync(process.execPath, ["-e", "0"]);
    expect(isAlive(child.pid as number)).to.equal(false);
  });
});
