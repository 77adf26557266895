import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError } from "../../../infra/contract/settings";
import { UsageError } from "../../../automation/release/errors";
import { isLocalStack, pulumiEnvironment } from "../../../automation/stack/environment";

describe("Pulumi CLI environment per stack", () => {
  let root: string;

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "ecs-canary-env-"));
    fs.writeFileSync(
      path.join(root, "Pulumi.here.yaml"),
      'config:\n  ecs-canary:platform: local\n  ecs-canary:canaryWeight: "0"\n',
    );
    fs.writeFileSync(
      path.join(root, "Pulumi.prod.yaml"),
      "config:\n  aws:region: us-east-1\n  ecs-canary:blueVersion: 1.0.0\n",
    );
  });

  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("tells a local stack from an AWS one by its settings file", () => {
    expect(isLocalStack("here", root)).to.equal(true);
    expect(isLocalStack("prod", root)).to.equal(false);
    expect(isLocalStack("missing", root)).to.equal(false);
  });

  it("reads the platform as the program does: YAML, then the settings' rule", () => {
    const write = (name: string, text: string) =>
      fs.writeFileSync(path.join(root, `Pulumi.${name}.yaml`), text);
    write("quoted", 'config:\n  ecs-canary:platform: "local"\n');
    write("commented", "config:\n  ecs-canary:platform: local # processes on this machine\n");
    write(
      "commentedOut",
      "config:\n  # ecs-canary:platform: local\n  ecs-canary:blueVersion: 1.0.0\n",
    );
    write(
      "inText",
      "config:\n  ecs-canary:platform: aws\n  ecs-canary:notes: |\n    ecs-canary:platform: local\n",
    );
    write("otherProject", "config:\n  other:platform: local\n");
    expect(isLocalStack("quoted", root)).to.equal(true);
    expect(isLocalStack("commented", root)).to.equal(true);
    expect(isLocalStack("commentedOut", root)).to.equal(false);
    expect(isLocalStack("inText", root)).to.equal(false);
    expect(isLocalStack("otherProject", root)).to.equal(false);
  });

  it("refuses a platform the program would refuse, and a file that is not YAML, with one line", () => {
    fs.writeFileSync(
      path.join(root, "Pulumi.typo.yaml"),
      "config:\n  ecs-canary:platform: Local\n",
    );
    expect(() => isLocalStack("typo", root))
      .to.throw(ConfigError)
      .with.property("message", 'invalid setting platform="Local": must be "aws" or "local"');
    fs.writeFileSync(path.join(root, "Pulumi.broken.yaml"), "config:\n  a: b\n c: d\n");
    expect(() => isLocalStack("broken", root))
      .to.throw(UsageError)
      .with.property(
        "message",
        "invalid stack file Pulumi.broken.yaml: bad indentation of a mapping entry (3:2)",
      );
  });

  it("lets an AWS stack acquire the provider plugins it needs (a fresh CI runner has none)", () => {
    const env = pulumiEnvironment("prod", { PATH: "/usr/bin" }, root);
    expect(env).to.not.have.property("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION");
    // and keeps the user's backend and secrets
    expect(env).to.not.have.any.keys("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE");
    expect(env.PULUMI_SKIP_UPDATE_CHECK).to.equal("true");
  });

  it("keeps a local stack offline: no plugin downloads, the project's file backend", () => {
    const env = pulumiEnvironment("here", { PATH: "/usr/bin" }, root);
    expect(env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION).to.equal("true");
    expect(env.PULUMI_BACKEND_URL).to.match(/^file:\/\//);
    expect(env.PULUMI_CONFIG_PASSPHRASE).to.equal("");
    expect(env.PATH.endsWith(`${path.delimiter}/usr/bin`)).to.equal(true);
  });

  it("gives Pulumi's Node.js processes a compile cache in the git-ignored state folder, or the user's", () => {
    expect(pulumiEnvironment("here", { PATH: "" }, root).NODE_COMPILE_CACHE).to.match(
      /\/\.pulumi-state\/node-compile-cache$/,
    );
    const own = pulumiEnvironment("prod", { PATH: "", NODE_COMPILE_CACHE: "/c" }, root);
    expect(own.NODE_COMPILE_CACHE).to.equal("/c");
  });
});
