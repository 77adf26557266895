import { expect } from "chai";
import { execFile, spawnSync } from "child_process";
import * as fs from "fs";
import { load } from "js-yaml";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { PROJECT_ROOT } from "../../../automation/stack/environment";

const WORKFLOWS = path.join(PROJECT_ROOT, ".github", "workflows");
const LINT = path.join(PROJECT_ROOT, "scripts", "lint-workflows.sh");
const CLI = path.join(PROJECT_ROOT, "build", "automation", "cli", "main.js");

interface Step {
  id?: string;
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  jobs: Record<string, { steps: Step[] }>;
}

function workflow(name: string): Workflow {
  return load(fs.readFileSync(path.join(WORKFLOWS, name), "utf8")) as Workflow;
}

function lint(dir?: string) {
  const run = spawnSync("bash", dir ? [LINT, dir] : [LINT], { encoding: "utf8" });
  return { code: run.status, out: `${run.stdout}${run.stderr}` };
}

describe("the GitHub Actions workflows", function () {
  // The first run on a machine builds actionlint (about 15 s) and installs shellcheck.
  this.timeout(180_000);

  it("pass actionlint, with shellcheck on every run: script", () => {
    const result = lint();
    expect(result.out).to.match(/actionlint: \d+ workflow files clean/);
    expect(result.code).to.equal(0);
  });

  it("a broken copy fails the lint, naming the file, line and finding", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "workflows-"));
    try {
      // actionlint finds a project by its .git and .github/workflows.
      expect(spawnSync("git", ["init", "-q", dir]).status).to.equal(0);
      fs.cpSync(path.join(PROJECT_ROOT, ".github"), path.join(dir, ".github"), {
        recursive: true,
      });
      const file = path.join(dir, ".github", "workflows", "release.yml");
      const text = fs.readFileSync(file, "utf8");
      const broken = text
        .replace("needs.rollout.outputs.outcome ==", "needs.rollout.outputs.outcom ==")
        .replace('abort --stack "$STACK"', "abort --stack $STACK");
      expect(broken).to.not.equal(text);
      fs.writeFileSync(file, broken);

      const result = lint(dir);
      expect(result.code).to.equal(1);
      expect(result.out).to.match(
        /release\.yml:\d+:\d+: property "outcom" is not defined in object type \{outcome: string\}/,
      );
      expect(result.out).to.match(/release\.yml:\d+:\d+: shellcheck reported issue .*SC2086/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("use only the driver's real commands and flags", async () => {
    const used = new Map<string, Set<string>>();
    for (const file of fs.readdirSync(WORKFLOWS)) {
      for (const job of Object.values(workflow(file).jobs)) {
        for (const step of job.steps) {
          const script = (step.run ?? "").replace(/\\\n/g, " ");
          for (const match of script.matchAll(/(?:^|[\s;{])ecs-canary (\S+)([^\n;|&]*)/g)) {
            const flags = used.get(match[1]) ?? new Set<string>();
            for (const flag of match[2].matchAll(/(--[a-z-]+)/g)) flags.add(flag[1]);
            used.set(match[1], flags);
          }
        }
      }
    }
    expect([...used.keys()].sort()).to.deep.equal(["abort", "promote", "rollout", "status"]);
    const helps = await Promise.all(
      [...used.keys()].map((command) =>
        promisify(execFile)(process.execPath, [CLI, command, "--help"], { encoding: "utf8" }),
      ),
    );
    [...used].forEach(([command, flags], i) => {
      for (const flag of flags)
        expect(helps[i].stdout, `${command} ${flag}`).to.include(`${flag} `);
    });
  });

  describe("the driver's exit code becomes the job's outcome", () => {
    const steps = [
      ["rollout", "rollout"],
      ["approve", "promote"],
    ] as const;
    for (const [job, id] of steps) {
      const step = workflow("release.yml").jobs[job].steps.find((s) => s.id === id);
      const cases: [number, number, string | undefined][] = [
        [0, 0, "promoted"],
        [3, 0, "paused"],
        [1, 1, undefined],
        [2, 2, undefined],
        [4, 4, undefined],
        [5, 5, undefined],
      ];
      for (const [driverCode, jobCode, outcome] of cases) {
        it(`${job}: driver exit ${driverCode} -> step exit ${jobCode}${outcome ? `, outcome=${outcome}` : ""}`, () => {
          expect(step?.run, `step ${id} of job ${job}`).to.be.a("string");
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), "workflow-step-"));
          try {
            // Stands in for the driver only: the script under test is the step's shell.
            fs.writeFileSync(
              path.join(dir, "ecs-canary"),
              `#!/bin/sh\necho "$*" >>"${dir}/calls"\nexit ${driverCode}\n`,
              { mode: 0o755 },
            );
            fs.writeFileSync(path.join(dir, "script.sh"), step!.run!);
            const output = path.join(dir, "output");
            fs.writeFileSync(output, "");
            // GitHub runs `run:` steps with `bash --noprofile --norc -eo pipefail {0}`.
            const run = spawnSync(
              "bash",
              ["--noprofile", "--norc", "-eo", "pipefail", "script.sh"],
              {
                cwd: dir,
                encoding: "utf8",
                env: {
                  PATH: `${dir}${path.delimiter}${process.env.PATH}`,
                  GITHUB_OUTPUT: output,
                  STACK: "dev",
                  VERSION: "1.0.2",
                  STEPS: "10,50,100",
                  BAKE: "5m",
                },
              },
            );
            expect(run.status, run.stdout + run.stderr).to.equal(jobCode);
            const outputs = fs.readFileSync(output, "utf8");
            expect(outputs).to.equal(outcome ? `outcome=${outcome}\n` : "");
            if (!outcome)
              expect(run.stdout).to.include(`::error::ecs-canary ${id} exited ${driverCode}`);
            const calls = fs.readFileSync(path.join(dir, "calls"), "utf8");
            expect(calls).to.equal(
              id === "rollout"
                ? "rollout --stack dev --version 1.0.2 --steps 10,50,100 --bake 5m --manual --plain\n"
                : "promote --stack dev --plain\n",
            );
          } finally {
            fs.rmSync(dir, { recursive: true, force: true });
          }
        });
      }
    }
  });

  it("run the tests and the driver on the Node.js line and Pulumi CLI that set-up installs", () => {
    const setupNode = fs.readFileSync(path.join(PROJECT_ROOT, "scripts", "setup-node.sh"), "utf8");
    const setupPulumi = fs.readFileSync(
      path.join(PROJECT_ROOT, "scripts", "setup-pulumi.sh"),
      "utf8",
    );
    const nodeMajor = /^NODE_VERSION="(\d+)\./m.exec(setupNode)?.[1];
    const pulumiVersion = /PULUMI_VERSION="\$\{PULUMI_VERSION:-([\d.]+)\}"/.exec(setupPulumi)?.[1];
    expect(nodeMajor).to.equal("24");
    const actions = [
      ...Object.values(workflow("test.yml").jobs).flatMap((job) => job.steps),
      ...(
        load(
          fs.readFileSync(
            path.join(PROJECT_ROOT, ".github", "actions", "driver", "action.yml"),
            "utf8",
          ),
        ) as { runs: { steps: Step[] } }
      ).runs.steps,
    ];
    const nodes = actions.filter((s) => s.uses?.startsWith("actions/setup-node@"));
    const pulumis = actions.filter((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(nodes).to.have.length(2);
    expect(pulumis).to.have.length(2);
    for (const s of nodes) expect(String(s.with?.["node-version"])).to.equal(nodeMajor);
    for (const s of pulumis) expect(String(s.with?.["pulumi-version"])).to.equal(pulumiVersion);
  });
});
