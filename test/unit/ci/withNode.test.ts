import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT } from "../../../automation/stack/environment";

const SCRIPTS = path.join(PROJECT_ROOT, "scripts");
const TOOLS_NODE = path.join(PROJECT_ROOT, ".tools", "node", "bin", "node");
const NODE_VERSION = /^NODE_VERSION="([\d.]+)"/m.exec(
  fs.readFileSync(path.join(SCRIPTS, "setup-node.sh"), "utf8"),
)![1];

/** A folder whose `node` reports an old version, as a machine with Node.js 20 has. */
function oldNodeDir(root: string): string {
  const dir = path.join(root, "old-node");
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, "node"), "#!/bin/sh\necho 20.20.2\n", { mode: 0o755 });
  return dir;
}

function run(script: string, args: string[], pathDirs: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync("bash", [script, ...args], {
    encoding: "utf8",
    env: { ...env, PATH: [...pathDirs, "/usr/bin", "/bin"].join(path.delimiter) },
  });
}

describe("scripts/with-node.sh: the tests, demo and Pulumi run on a supported Node.js", function () {
  // The first run on a machine with an old Node.js installs Node.js 24 (about 5 s).
  this.timeout(120_000);
  let tmp: string;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), "with-node-"))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("below Node.js 22 on PATH, runs the command on the tools' Node.js 24 and says which", () => {
    const result = run(
      path.join(SCRIPTS, "with-node.sh"),
      ["node", "-p", "process.version"],
      [oldNodeDir(tmp)],
    );
    expect(result.status, result.stderr).to.equal(0);
    expect(result.stdout).to.equal(`v${NODE_VERSION}\n`);
    expect(result.stderr).to.include(`node v${NODE_VERSION} (${TOOLS_NODE})\n`);
  });

  it("a Node.js 22 or newer on PATH is used as it is", () => {
    // The tools' Node.js 24 (installed by the test above if it was not) under another name
    // stands for a machine's own.
    run(path.join(SCRIPTS, "setup-node.sh"), [], [oldNodeDir(tmp)]);
    const own = path.join(tmp, "own-node");
    fs.mkdirSync(own);
    fs.symlinkSync(TOOLS_NODE, path.join(own, "node"));
    const result = run(
      path.join(SCRIPTS, "with-node.sh"),
      ["node", "-p", "process.version"],
      [own],
    );
    expect(result.status, result.stderr).to.equal(0);
    expect(result.stderr).to.equal(`node v${NODE_VERSION} (${path.join(own, "node")})\n`);
  });

  it("cannot install Node.js 24: one line saying why, exit 1, and the command does not run", () => {
    // A copy of the scripts in a project without .tools/node, with no usable pip.
    fs.mkdirSync(path.join(tmp, "scripts"));
    for (const f of ["setup-node.sh", "with-node.sh"]) {
      fs.copyFileSync(path.join(SCRIPTS, f), path.join(tmp, "scripts", f));
    }
    const marker = path.join(tmp, "ran");
    const result = run(
      path.join(tmp, "scripts", "with-node.sh"),
      ["touch", marker],
      [oldNodeDir(tmp)],
      { PYTHON: path.join(tmp, "no-python") },
    );
    expect(result.status).to.equal(1);
    expect(result.stderr.trim().split("\n").at(-1)).to.equal(
      `setup-node: cannot install Node.js ${NODE_VERSION}: '${path.join(tmp, "no-python")} -m pip' does not run (set PYTHON to a Python 3 with pip, or install Node.js 22 or 24 yourself)`,
    );
    expect(fs.existsSync(marker)).to.equal(false);
    expect(fs.existsSync(path.join(tmp, ".tools", "node"))).to.equal(false);
  });
});
