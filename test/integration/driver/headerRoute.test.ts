import { expect } from "chai";
import type { MetricsView } from "../../../infra/local/balancer/adminApi";
import { deployedStacks, outcome, statusOf, SteadyClient, updates } from "./driverHarness";

const HEADER = "X-Canary: always";

/** The versions that answer `count` GETs (with the given headers), by version. */
async function versions(
  url: string,
  count: number,
  headers: Record<string, string> = {},
): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const res = await fetch(url, { headers });
    expect(res.status).to.equal(200);
    const version = /Version: (\S+)/.exec(await res.text())?.[1] ?? "none";
    seen[version] = (seen[version] ?? 0) + 1;
  }
  return seen;
}

describe("header route, pre-traffic check and stickiness on the local stack (real engine, real processes)", function () {
  this.timeout(15 * 60_000);
  const deployed = deployedStacks();

  it("routes the header to the canary at weight 0 while it has tasks, and keeps cookie clients on their version", async () => {
    const s = await deployed({
      greenVersion: "1.0.1",
      canaryHeader: HEADER,
      stickinessSeconds: "600",
    });
    const { url } = (await statusOf(s)).outputs;
    expect(await versions(url, 30, { "x-canary": "always" })).to.deep.equal({ "1.0.1": 30 });
    expect(await versions(url, 30)).to.deep.equal({ "1.0.0": 30 });

    // Stickiness through the provider: a client keeping its cookie stays on its version.
    expect((await s.run(["set-weight", "50"])).code).to.equal(0);
    const cookieJar = new Map<string, string>();
    const seen: string[] = [];
    const sticky = async () => {
      const cookie = [...cookieJar].map(([k, v]) => `${k}=${v}`).join("; ");
      const res = await fetch(url, { headers: cookie ? { cookie } : {} });
      for (const set of res.headers.getSetCookie()) {
        const [pair] = set.split(";");
        cookieJar.set(pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1));
      }
      seen.push(/Version: (\S+)/.exec(await res.text())?.[1] ?? "none");
    };
    await sticky();
    for (const weight of ["20", "80", "35"]) {
      const run = await s.run(["set-weight", weight]);
      expect(run.code, run.stderr).to.equal(0);
      for (let i = 0; i < 5; i++) await sticky();
    }
    expect(new Set(seen), seen.join(",")).to.have.length(1);
    expect(cookieJar.has("AWSALBTG")).to.equal(true);
    const cookieless = await versions(url, 20);
    expect(cookieless).to.deep.equal({ "1.0.0": 13, "1.0.1": 7 });

    // No tasks, no route: at canaryScale 0 the header reaches the stable version.
    await s.upAsPerson({ canaryWeight: "0", canaryScale: "0" });
    expect((await statusOf(s)).outputs.green.scale).to.equal(0);
    expect(await versions(url, 10, { "x-canary": "always" })).to.deep.equal({ "1.0.0": 10 });
  });

  it("a pre-traffic probe failure rolls back before any user request reaches the new version", async () => {
    // The new version on green answers half of its requests with 500.
    const s = await deployed({ canaryHeader: HEADER, greenErrorRate: "0.5" });
    const status = await statusOf(s);
    const users = new SteadyClient(status.outputs.url);
    const run = await s.run([
      "rollout",
      "--version",
      "1.0.2",
      "--steps",
      "50,100",
      "--bake",
      "3s",
      "--metrics",
      "off",
      "--probe",
      "20",
      "--probe-header",
      HEADER,
      "--interval",
      "1s",
    ]);
    await users.stop();
    expect(run.code, run.stderr).to.equal(1);
    const result = outcome(run.events);
    expect(result?.kind).to.equal("rolled-back");
    expect(result?.message).to.match(
      /pre-traffic check at 0%: probe: \d+\/20 ok with X-Canary: always/,
    );
    expect(updates(run.events)).to.deep.equal([
      "deploy 1.0.2 to green at 0%",
      "roll back: all traffic to blue (1.0.0), green (1.0.2) scaled to 0",
    ]);
    // Users: every answer from the stable version, none from 1.0.2.
    expect(users.total()).to.be.greaterThan(0);
    expect(users.count(200, "1.0.0")).to.equal(users.total());
    // The balancer: the canary's group served the probe's 20 requests and nothing else.
    const { metricsSource, green } = (await statusOf(s)).outputs;
    if (metricsSource.kind !== "local") throw new Error("expected the local metrics source");
    const view = (await (await fetch(`${metricsSource.adminUrl}/metrics`)).json()) as MetricsView;
    expect(view.targetGroups[green.targetGroupArnSuffix].totals.requests).to.equal(20);
  });
});
