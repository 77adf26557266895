import { expect } from "chai";
import { MetricsSource } from "../../../infra/contract/outputs";
import { CloudWatchMetricsReader } from "../../../automation/metrics/cloudwatch";
import { LocalBalancerMetricsReader } from "../../../automation/metrics/local";
import { MetricsReader } from "../../../automation/metrics/reader";
import { metricsReaderFor } from "../../../automation/metrics/registry";

const CLOUDWATCH: MetricsSource = {
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
const LOCAL: MetricsSource = {
  kind: "local",
  intervalSeconds: 10,
  settleSeconds: 20,
  adminUrl: "http://127.0.0.1:1",
  targetGroupArnSuffixes: { blue: "tg-blue", green: "tg-green" },
};

/** The output of a stack deployed before `key` existed. */
function without(output: MetricsSource, key: "settleSeconds" | "intervalSeconds"): MetricsSource {
  const copy: Record<string, unknown> = { ...output };
  delete copy[key];
  return copy as unknown as MetricsSource;
}

const readers: MetricsReader[] = [];
function reader(output: MetricsSource): MetricsReader {
  const r = metricsReaderFor(output);
  readers.push(r);
  return r;
}

describe("metricsReaderFor", () => {
  after(() => {
    for (const r of readers) if (r instanceof CloudWatchMetricsReader) r.destroy();
  });

  it("reads each kind of metrics output with its own reader", () => {
    expect(reader(CLOUDWATCH)).to.be.instanceOf(CloudWatchMetricsReader);
    expect(reader(LOCAL)).to.be.instanceOf(LocalBalancerMetricsReader);
    expect(reader(LOCAL).description).to.equal("local balancer http://127.0.0.1:1/metrics");
  });

  it("takes the interval and the settle delay the stack output names", () => {
    expect(reader(CLOUDWATCH)).to.include({ intervalMs: 60_000, settleMs: 120_000 });
    expect(reader(LOCAL)).to.include({ intervalMs: 10_000, settleMs: 20_000 });
    expect(reader({ ...LOCAL, settleSeconds: 0 }).settleMs).to.equal(0);
    expect(reader({ ...CLOUDWATCH, intervalSeconds: 300 }).intervalMs).to.equal(300_000);
  });

  it("gives stacks deployed before settleSeconds 180 s on CloudWatch and 0 on the local balancer", () => {
    expect(reader(without(CLOUDWATCH, "settleSeconds")).settleMs).to.equal(180_000);
    expect(reader(without(LOCAL, "settleSeconds")).settleMs).to.equal(0);
  });

  it("gives stacks deployed before intervalSeconds one-minute intervals", () => {
    expect(reader(without(CLOUDWATCH, "intervalSeconds")).intervalMs).to.equal(60_000);
    expect(reader(without(LOCAL, "intervalSeconds")).intervalMs).to.equal(60_000);
  });

  it("refuses a value that is no delay or no interval, in one line", () => {
    expect(() => reader({ ...LOCAL, settleSeconds: -5 })).to.throw(
      "the stack output metricsSource.settleSeconds must be a number >= 0, got -5",
    );
    const text = { ...CLOUDWATCH, settleSeconds: "30" as unknown as number };
    expect(() => reader(text)).to.throw('got "30"');
    expect(() => reader({ ...LOCAL, intervalSeconds: 0 })).to.throw(
      "the stack output metricsSource.intervalSeconds must be a number > 0, got 0",
    );
  });

  it("refuses a kind it cannot read", () => {
    const other = { ...LOCAL, kind: "prometheus" } as unknown as MetricsSource;
    expect(() => reader(other)).to.throw(
      'the stack output metricsSource.kind must be one of cloudwatch, local, got "prometheus"',
    );
  });
});
