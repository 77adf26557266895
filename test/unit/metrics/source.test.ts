import { expect } from "chai";
import { MetricsSource as MetricsSourceOutput } from "../../../infra/contract/outputs";
import { DEFAULT_SETTLE_SECONDS, settleMsOf } from "../../../automation/metrics/source";

const CLOUDWATCH: MetricsSourceOutput = {
  kind: "cloudwatch",
  intervalSeconds: 60,
  settleSeconds: 120,
  region: "eu-west-1",
  loadBalancerArnSuffix: "app/canary-alb/50dc6c495c0c9188",
  targetGroupArnSuffixes: {
    blue: "targetgroup/blue-tg/73e2d6bc24d8a067",
    green: "targetgroup/green-tg/943f017f100becff",
  },
};
const LOCAL: MetricsSourceOutput = {
  kind: "local",
  intervalSeconds: 10,
  settleSeconds: 20,
  adminUrl: "http://127.0.0.1:1",
  targetGroupArnSuffixes: { blue: "tg-blue", green: "tg-green" },
};

/** The output of a stack deployed before settleSeconds existed. */
function withoutSettle(output: MetricsSourceOutput): MetricsSourceOutput {
  const copy: Record<string, unknown> = { ...output };
  delete copy.settleSeconds;
  return copy as unknown as MetricsSourceOutput;
}

describe("settleMsOf", () => {
  it("takes the settle delay the stack output names", () => {
    expect(settleMsOf(CLOUDWATCH)).to.equal(120_000);
    expect(settleMsOf(LOCAL)).to.equal(20_000);
    expect(settleMsOf({ ...LOCAL, settleSeconds: 0 })).to.equal(0);
  });

  it("gives stacks deployed before the output 180 s on CloudWatch and 0 on the local balancer", () => {
    expect(DEFAULT_SETTLE_SECONDS).to.deep.equal({ cloudwatch: 180, local: 0 });
    expect(settleMsOf(withoutSettle(CLOUDWATCH))).to.equal(180_000);
    expect(settleMsOf(withoutSettle(LOCAL))).to.equal(0);
  });

  it("refuses a value that is no delay, in one line", () => {
    const bad = { ...LOCAL, settleSeconds: -5 };
    expect(() => settleMsOf(bad)).to.throw(
      "the stack output metricsSource.settleSeconds must be a number >= 0, got -5",
    );
    const text = { ...LOCAL, settleSeconds: "30" as unknown as number };
    expect(() => settleMsOf(text)).to.throw('got "30"');
  });
});
