import { expect } from "chai";
import { updatePhases } from "../../bench/updatePhases";

/** A line of `pulumi up -v=7 --logtostderr` as the CLI writes it. */
const line = (time: string, msg: string) =>
  `I1126 x.go:1] {"time":"2026-11-26T18:01:${time}Z","level":"INFO","msg":"${msg}","v":7}`;

const LOG = [
  line("35.250779193", "Pulumi"),
  line("35.751000000", "langhost[nodejs].Run(pwd=/p/build/infra,root=/p, program=/p/build/infra)"),
  line("37.668000000", "ResourceMonitor.RegisterResource received: t=pulumi:pulumi:Stack, name=x"),
  line(
    "39.342000000",
    "ProviderRegistry.Check(urn:pulumi:s::p::pulumi:providers:pulumi-nodejs::default) executing (#oldInputs=32",
  ),
  line("41.323000000", "Provider[0x3048315cf940].GetPluginInfo() executing"),
  line("41.346000000", "Saved stack organization/p/s checkpoint to: .pulumi/stacks/p/s.json (b"),
  line("41.473000000", "Saved stack organization/p/s checkpoint to: .pulumi/stacks/p/s.json (b"),
].join("\n");

describe("bench: the phases of an update from the CLI's log", () => {
  it("splits the time at the entries that end each phase, the rest after the last checkpoint", () => {
    const started = Date.parse("2026-11-26T18:01:35.000Z");
    const ended = Date.parse("2026-11-26T18:01:42.000Z");
    const { phases, checkpoints } = updatePhases(LOG, started, ended);
    expect(phases.map((p) => p.ms)).to.deep.equal([751, 1917, 1674, 1981, 150, 527]);
    expect(phases.reduce((sum, p) => sum + p.ms, 0)).to.equal(ended - started);
    expect(phases[3].name).to.equal("dynamic-provider process start");
    expect(checkpoints).to.equal(2);
  });

  it("leaves out a phase whose mark is missing", () => {
    const { phases } = updatePhases(
      line("36.000000000", "Pulumi"),
      0,
      Date.parse("2026-11-26T18:01:37Z"),
    );
    expect(phases.map((p) => p.name)).to.deep.equal(["program and plugin shutdown, CLI end"]);
  });
});
