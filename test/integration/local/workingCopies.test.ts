/**
 * A local stack is not tied to the working copy that created it: created from copy A, with A
 * then deleted, it is updated and destroyed from copy B (this project), and its processes stop.
 * Before the fix, the providers serialised into the stack's state loaded their implementation
 * from A's absolute path, so B's `pulumi destroy` failed with "Cannot find module" and left the
 * processes running.
 */
import { execFile } from "child_process";
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT, PULUMI_TOOLS } from "../../../automation/stack/environment";
import { processesMatching } from "../../unit/local/support/procScan";

function pulumi(cwd: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      path.join(PULUMI_TOOLS, "bin", "pulumi"),
      args,
      { cwd, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

/** A second working copy of the project: its own files, the same installed packages. */
function copyProject(to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const file of ["Pulumi.yaml", "package.json"]) {
    fs.copyFileSync(path.join(PROJECT_ROOT, file), path.join(to, file));
  }
  fs.cpSync(path.join(PROJECT_ROOT, "build", "infra"), path.join(to, "build", "infra"), {
    recursive: true,
  });
  fs.symlinkSync(
    fs.realpathSync(path.join(PROJECT_ROOT, "node_modules")),
    path.join(to, "node_modules"),
  );
}

describe("a local stack moves between working copies", function () {
  this.timeout(180_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ecs-canary-copies-"));
  const stackName = `itest-copies-${process.pid}-${Date.now().toString(36)}`;
  const stackFile = `Pulumi.${stackName}.yaml`;
  const copyA = path.join(tmp, "copy-a");
  const env = {
    PATH: `${path.join(PULUMI_TOOLS, "bin")}${path.delimiter}${process.env.PATH ?? ""}`,
    PULUMI_BACKEND_URL: `file://${path.join(tmp, "backend")}`,
    PULUMI_CONFIG_PASSPHRASE: "",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    ECS_CANARY_LOCAL_STATE_DIR: path.join(tmp, "processes"),
  };
  const stackProcesses = () => processesMatching(`--instance=ecs-canary/${stackName}/`);

  after(async () => {
    // Whatever the test left: stop it from here, then remove the stack and its files.
    if (fs.existsSync(path.join(PROJECT_ROOT, stackFile))) {
      await pulumi(PROJECT_ROOT, ["destroy", "--yes", "--skip-preview", "-s", stackName], env);
      await pulumi(PROJECT_ROOT, ["stack", "rm", "--yes", "--force", "-s", stackName], env);
      fs.rmSync(path.join(PROJECT_ROOT, stackFile), { force: true });
    }
    for (const { pid } of stackProcesses()) process.kill(pid, "SIGKILL");
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("is created from copy A, then updated and destroyed from copy B after A is deleted", async () => {
    fs.mkdirSync(path.join(tmp, "backend"));
    copyProject(copyA);
    const settings = ["platform: local", "desiredCount: 1", "canaryWeight: 0"];
    fs.writeFileSync(
      path.join(copyA, stackFile),
      `config:\n${settings.map((s) => `  ecs-canary:${s.replace(": ", ': "')}"`).join("\n")}\n`,
    );
    const init = await pulumi(copyA, ["stack", "init", stackName], env);
    expect(init.code, init.output).to.equal(0);
    const created = await pulumi(copyA, ["up", "--yes", "--skip-preview", "-s", stackName], env);
    expect(created.code, created.output).to.equal(0);
    expect(stackProcesses()).to.have.length(3); // a balancer and one task per colour

    // Copy B has the stack's settings file as A committed it; A is gone.
    fs.copyFileSync(path.join(copyA, stackFile), path.join(PROJECT_ROOT, stackFile));
    fs.rmSync(copyA, { recursive: true, force: true });

    const updated = await pulumi(
      PROJECT_ROOT,
      ["up", "--yes", "--skip-preview", "-s", stackName, "-c", "ecs-canary:canaryWeight=30"],
      env,
    );
    expect(updated.code, updated.output).to.equal(0);
    const destroyed = await pulumi(
      PROJECT_ROOT,
      ["destroy", "--yes", "--skip-preview", "-s", stackName],
      env,
    );
    expect(destroyed.code, destroyed.output).to.equal(0);
    expect(stackProcesses()).to.deep.equal([]);
  });
});
