import { expect } from "chai";
import { CANARY_HEADER_ALLOWED } from "../../../infra/contract/canaryHeader";
import { Color } from "../../../infra/contract/settings";
import { HEADER_RULE_PRIORITY, LISTENER_RULE_PRIORITY } from "../../../infra/aws/loadBalancer";
import { ProgramRun, Registered, runProgram, runProgramExpectingError } from "./mockProgram";

const TG = "aws:lb/targetGroup:TargetGroup";
const RULE = "aws:lb/listenerRule:ListenerRule";
const TASK_SET = "aws:ecs/taskSet:TaskSet";
const LISTENER = "aws:lb/listener:Listener";
const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/8a4b6a3e-2f1c-4d5e-9b7a-0c1d2e3f4a5b";
const base = { blueVersion: "1.0.0", greenVersion: "1.0.1", canaryHeader: "X-Canary: always" };

function targetGroupArn(run: ProgramRun, color: Color): unknown {
  const found = run
    .ofType(TG)
    .filter((r) => (r.inputs.tags as Record<string, string>)["ecs-canary:color"] === color);
  expect(found).to.have.length(1);
  return found[0].state.arn;
}

function headerRules(run: ProgramRun): Registered[] {
  return run.ofType(RULE).filter((r) => r.inputs.priority === HEADER_RULE_PRIORITY);
}

function headerRule(run: ProgramRun): Registered {
  const rules = headerRules(run);
  expect(rules, "header rules").to.have.length(1);
  return rules[0];
}

describe("header route to the canary (Pulumi mocks)", function () {
  this.timeout(20_000);

  it("adds a rule above the weighted one that matches the header and forwards to the canary's group only", async () => {
    const run = await runProgram({ ...base, canaryWeight: "0" });
    const rule = headerRule(run);
    const weighted = run.ofType(RULE).filter((r) => r !== rule);
    expect(weighted).to.have.length(1);
    expect(HEADER_RULE_PRIORITY).to.be.lessThan(weighted[0].inputs.priority as number);
    expect(weighted[0].inputs.priority).to.equal(LISTENER_RULE_PRIORITY);
    expect(rule.inputs.conditions).to.deep.equal([
      { httpHeader: { httpHeaderName: "X-Canary", values: ["always"] } },
    ]);
    expect(rule.inputs.actions).to.deep.equal([
      { type: "forward", targetGroupArn: targetGroupArn(run, "green") },
    ]);
    expect(rule.inputs.listenerArn).to.equal(run.one(LISTENER).state.arn);
  });

  for (const stableColor of ["blue", "green"] as const) {
    it(`follows the colour that is not stable (stableColor ${stableColor})`, async () => {
      const run = await runProgram({ ...base, stableColor, canaryWeight: "30" });
      const canary: Color = stableColor === "blue" ? "green" : "blue";
      expect(headerRule(run).inputs.actions).to.deep.equal([
        { type: "forward", targetGroupArn: targetGroupArn(run, canary) },
      ]);
    });
  }

  it("is created after both task sets, so it never forwards before the canary's tasks register", async () => {
    const run = await runProgram(base);
    const rule = headerRule(run);
    for (const taskSet of run.ofType(TASK_SET)) {
      const found = rule.dependencies.some((urn) => urn.endsWith(`${TASK_SET}::${taskSet.name}`));
      expect(found, `depends on ${taskSet.name}`).to.equal(true);
    }
  });

  it("does not exist while the canary colour has no tasks (canaryScale 0)", async () => {
    const run = await runProgram({ ...base, canaryScale: "0" });
    expect(headerRules(run)).to.deep.equal([]);
    expect(run.ofType(RULE)).to.have.length(1);
  });

  it("does not exist without the setting (empty, as Pulumi.yaml's default)", async () => {
    const run = await runProgram({ ...base, canaryHeader: "" });
    expect(headerRules(run)).to.deep.equal([]);
    expect(run.ofType(RULE)).to.have.length(1);
  });

  it("sits on the HTTPS listener with a certificate, as the weighted rule does", async () => {
    const run = await runProgram({ ...base, certificateArn: CERT });
    const https = run.ofType(LISTENER).find((l) => l.inputs.protocol === "HTTPS");
    expect(headerRule(run).inputs.listenerArn).to.equal(https?.state.arn);
  });

  it("passes wildcards in the value on to the ALB, which matches them", async () => {
    const run = await runProgram({ ...base, canaryHeader: "x-canary-user: tester-*" });
    expect(headerRule(run).inputs.conditions).to.deep.equal([
      { httpHeader: { httpHeaderName: "x-canary-user", values: ["tester-*"] } },
    ]);
  });

  const refused: [string, string][] = [
    ["X-Canary", "no colon"],
    ["X Canary: always", "a space in the name"],
    ["X-Can*: always", "a wildcard in the name"],
    ["Host: canary.example.com", "the Host header"],
    [`${"X".repeat(41)}: always`, "a 41-character name"],
    [`X-Canary: ${"v".repeat(129)}`, "a 129-character value"],
    ["X-Canary:", "an empty value"],
    ["X-Canary: caf\u00e9", "a value that is not ASCII"],
  ];
  for (const [raw, why] of refused) {
    it(`refuses ${why} before any resource, naming the setting`, async () => {
      const { error, resources } = await runProgramExpectingError({ ...base, canaryHeader: raw });
      expect(resources).to.deep.equal([]);
      expect(error.message).to.equal(
        `invalid setting canaryHeader=${JSON.stringify(raw)}: ${CANARY_HEADER_ALLOWED}`,
      );
    });
  }
});
