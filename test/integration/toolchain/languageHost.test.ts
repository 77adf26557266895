import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { load } from "js-yaml";
import { PROJECT_ROOT, PULUMI_TOOLS } from "../../../automation/stack/environment";

const run = promisify(execFile);

/** The runtime options of this project's Pulumi.yaml. */
function runtimeOptions(): Record<string, unknown> {
  const project = load(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8")) as {
    runtime: { options?: Record<string, unknown> };
  };
  return project.runtime.options ?? {};
}

describe("the Pulumi tools set-up brings (real CLI and language host)", function () {
  this.timeout(120_000);
  // Inside the project (git-ignored), so the program finds the project's @pulumi/pulumi.
  const dir = path.join(PROJECT_ROOT, "test-artifacts", `langhost-${process.pid}`);

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("runs the program as Pulumi.yaml says: compiled JavaScript, without ts-node", async () => {
    expect(runtimeOptions()).to.include({ typescript: false });
    fs.mkdirSync(path.join(dir, "backend"), { recursive: true });
    fs.writeFileSync(
      path.join(dir, "Pulumi.yaml"),
      "name: langhost-check\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n",
    );
    // Its own package, or the language host would run the project's program (package.json main).
    fs.writeFileSync(
      path.join(dir, "package.json"),
      JSON.stringify({ name: "langhost-check", main: "index.js" }),
    );
    fs.writeFileSync(
      path.join(dir, "index.js"),
      [
        'require("@pulumi/pulumi");',
        'exports.typescript = process.env.PULUMI_NODEJS_TYPESCRIPT ?? "unset";',
        'exports.tsHook = require.extensions[".ts"] !== undefined;',
        "",
      ].join("\n"),
    );
    const env = {
      ...process.env,
      PATH: `${path.join(PULUMI_TOOLS, "bin")}${path.delimiter}${process.env.PATH ?? ""}`,
      PULUMI_BACKEND_URL: `file://${path.join(dir, "backend")}`,
      PULUMI_CONFIG_PASSPHRASE: "",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    };
    const pulumi = (args: string[]) =>
      run(path.join(PULUMI_TOOLS, "bin", "pulumi"), args, { cwd: dir, env });
    await pulumi(["stack", "init", "check", "--non-interactive"]);
    await pulumi(["up", "--yes", "--skip-preview", "--stack", "check", "--non-interactive"]);
    const { stdout } = await pulumi(["stack", "output", "--json", "--stack", "check"]);
    expect(JSON.parse(stdout)).to.deep.equal({ typescript: "unset", tsHook: false });
  });
});
