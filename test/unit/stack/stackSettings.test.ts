import { expect } from "chai";
import { load } from "js-yaml";
import {
  describeRecovered,
  parseSettingsFile,
  reconcile,
  settingsFileText,
} from "../../../automation/stack/stackSettings";

const COMMITTED = `# comment
config:
  ecs-canary:platform: local
  ecs-canary:stableColor: blue
  ecs-canary:greenVersion: 1.0.1
  ecs-canary:canaryWeight: "0"
  ecs-canary:desiredCount: 2
  ecs-canary:secretThing:
    secure: v1:abc
  aws:region: us-east-1
encryptionsalt: v1:salt
`;

describe("stack settings: the file and the stack's last update", () => {
  it("reads the project's settings as Pulumi hands them over (strings), secure ones left out", () => {
    expect(parseSettingsFile(COMMITTED, "Pulumi.x.yaml").config).to.deep.equal({
      platform: "local",
      stableColor: "blue",
      greenVersion: "1.0.1",
      canaryWeight: "0",
      desiredCount: "2",
    });
  });

  it("a stale file never undoes a release: the driver's settings come from the last update", () => {
    const file = parseSettingsFile(COMMITTED, "Pulumi.x.yaml").config;
    const last = {
      stableColor: "green",
      greenVersion: "1.0.2",
      canaryWeight: "0",
      canaryScale: "0",
      desiredCount: "1",
    };
    const { config, recovered } = reconcile(file, last);
    expect(config).to.include({ stableColor: "green", greenVersion: "1.0.2", canaryScale: "0" });
    // A person's setting (not the driver's) is the file's.
    expect(config.desiredCount).to.equal("2");
    expect(recovered.map((r) => r.key)).to.deep.equal(["stableColor", "greenVersion"]);
    expect(describeRecovered("x", "Pulumi.x.yaml", recovered)).to.equal(
      "stack x: settings recovered from its last update, Pulumi.x.yaml is older: stableColor green (file: blue), greenVersion 1.0.2 (file: 1.0.1)",
    );
  });

  it("a stack never updated starts from the file", () => {
    const file = { stableColor: "blue" };
    expect(reconcile(file, undefined)).to.deep.equal({ config: file, recovered: [] });
  });

  it("the update's settings file: the person's file with the changed settings, salt and secrets kept", () => {
    const file = parseSettingsFile(COMMITTED, "Pulumi.x.yaml");
    const config = { ...file.config, stableColor: "green", canaryScale: "0" };
    const doc = load(settingsFileText(file, config)) as {
      config: Record<string, unknown>;
      encryptionsalt: string;
    };
    expect(doc.encryptionsalt).to.equal("v1:salt");
    expect(doc.config).to.deep.equal({
      "ecs-canary:platform": "local",
      "ecs-canary:stableColor": "green",
      "ecs-canary:greenVersion": "1.0.1",
      "ecs-canary:canaryWeight": "0",
      "ecs-canary:desiredCount": 2,
      "ecs-canary:secretThing": { secure: "v1:abc" },
      "aws:region": "us-east-1",
      "ecs-canary:canaryScale": "0",
    });
  });

  it("a broken file is refused with one line", () => {
    expect(() => parseSettingsFile("config: [", "Pulumi.x.yaml")).to.throw(
      /^invalid stack file Pulumi.x.yaml: /,
    );
  });
});
