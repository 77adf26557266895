import { expect } from "chai";
import * as http from "http";
import type { MetricsView, RuleView } from "../../../infra/local/balancer/adminApi";
import { STICKY_CORS_COOKIE, STICKY_COOKIE } from "../../../infra/local/balancer/stickiness";
import { requestJson } from "../../../infra/local/shared/httpJson";
import { ProcessPool } from "./support/processPool";

interface Answer {
  status: number;
  version: string;
  setCookies: string[];
}

/** One GET with the given headers; the version is the sample service's x-app-version. */
function get(url: string, headers: http.OutgoingHttpHeaders = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      res.resume();
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          version: String(res.headers["x-app-version"] ?? "none"),
          setCookies: res.headers["set-cookie"] ?? [],
        }),
      );
    });
    req.on("error", reject);
  });
}

async function versions(
  url: string,
  count: number,
  headers: http.OutgoingHttpHeaders = {},
): Promise<Record<string, number>> {
  const tally: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const { status, version } = await get(url, headers);
    expect(status).to.equal(200);
    tally[version] = (tally[version] ?? 0) + 1;
  }
  return tally;
}

/** A client that keeps the cookies it is given, as a browser does (name=value only). */
class CookieClient {
  private readonly jar = new Map<string, string>();
  readonly seen: string[] = [];

  async get(url: string): Promise<Answer> {
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const answer = await get(url, cookie ? { cookie } : {});
    for (const set of answer.setCookies) {
      const pair = set.split(";")[0];
      const eq = pair.indexOf("=");
      this.jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    this.seen.push(answer.version);
    return answer;
  }
}

describe("local load balancer: header route and stickiness (real processes)", function () {
  this.timeout(60_000);
  const pool = new ProcessPool();
  let blue: string[];
  let green: string[];
  let lb: Awaited<ReturnType<ProcessPool["balancer"]>>;

  const put = (body: unknown) => requestJson("PUT", `${lb.adminUrl}/config`, body);
  const groups = (blueWeight: number, greenWeight: number) => [
    { id: "tg/blue", weight: blueWeight, targets: blue },
    { id: "tg/green", weight: greenWeight, targets: green },
  ];
  const headerRoute = { name: "X-Canary", value: "always", groupId: "tg/green" };

  before(async () => {
    const services = await Promise.all([
      pool.service("1.0.0"),
      pool.service("1.0.0"),
      pool.service("1.0.1"),
    ]);
    blue = services.slice(0, 2).map((s) => s.url);
    green = services.slice(2).map((s) => s.url);
    lb = await pool.balancer();
  });
  after(() => pool.stopAll());

  describe("header route", () => {
    it("sends every request with the header to the canary's group at weight 0, and none without it", async () => {
      const applied = await put({ groups: groups(100, 0), headerRoute });
      expect(applied.status).to.equal(200);
      expect((applied.body as RuleView).headerRoute).to.deep.equal(headerRoute);
      expect(await versions(lb.url, 50, { "x-canary": "always" })).to.deep.equal({ "1.0.1": 50 });
      expect(await versions(lb.url, 50)).to.deep.equal({ "1.0.0": 50 });
      expect(await versions(lb.url, 20, { "x-canary": "sometimes" })).to.deep.equal({
        "1.0.0": 20,
      });
    });

    it("matches the name and value case-insensitively, any of a repeated header, and wildcards", async () => {
      await put({ groups: groups(100, 0), headerRoute: { ...headerRoute, value: "tester-?-*" } });
      expect(await versions(lb.url, 5, { "X-CANARY": "TESTER-1-anna" })).to.deep.equal({
        "1.0.1": 5,
      });
      expect(await versions(lb.url, 5, { "x-canary": ["nobody", "tester-2-"] })).to.deep.equal({
        "1.0.1": 5,
      });
      expect(await versions(lb.url, 5, { "x-canary": "tester-12-anna" })).to.deep.equal({
        "1.0.0": 5,
      });
    });

    it("counts header requests in the canary group's metrics, as CloudWatch counts a rule's requests", async () => {
      await put({ groups: groups(100, 0), headerRoute });
      const before = (await requestJson("GET", `${lb.adminUrl}/metrics`)).body as MetricsView;
      const greenBefore = before.targetGroups["tg/green"]?.totals.requests ?? 0;
      await versions(lb.url, 7, { "x-canary": "always" });
      await versions(lb.url, 7);
      const after = (await requestJson("GET", `${lb.adminUrl}/metrics`)).body as MetricsView;
      expect(after.targetGroups["tg/green"].totals.requests - greenBefore).to.equal(7);
    });

    it("refuses a route to a group the rule does not have, or a bad header, and keeps the old rule", async () => {
      await put({ groups: groups(100, 0), headerRoute });
      for (const bad of [
        { ...headerRoute, groupId: "tg/red" },
        { ...headerRoute, name: "Host" },
        { ...headerRoute, value: "" },
      ]) {
        const refused = await put({ groups: groups(0, 100), headerRoute: bad });
        expect(refused.status).to.equal(400);
      }
      const { body } = await requestJson("GET", `${lb.adminUrl}/config`);
      expect((body as RuleView).groups.map((g) => g.weight)).to.deep.equal([100, 0]);
    });

    it("has no route once the rule is sent without one", async () => {
      await put({ groups: groups(100, 0) });
      expect(await versions(lb.url, 10, { "x-canary": "always" })).to.deep.equal({ "1.0.0": 10 });
    });
  });

  describe("stickiness", () => {
    it("keeps a cookie-keeping client on the group it first got across three weight changes", async () => {
      await put({ groups: groups(50, 50), stickinessSeconds: 600 });
      const clients = Array.from({ length: 10 }, () => new CookieClient());
      for (const weights of [
        [50, 50],
        [80, 20],
        [20, 80],
        [60, 40],
      ]) {
        const applied = await put({
          groups: groups(weights[0], weights[1]),
          stickinessSeconds: 600,
        });
        expect(applied.status).to.equal(200);
        for (const client of clients) for (let i = 0; i < 5; i++) await client.get(lb.url);
      }
      for (const client of clients) {
        expect(new Set(client.seen), client.seen.join(",")).to.have.length(1);
      }
      // The first 10 clients got the 50/50 split: both groups have some of them.
      const firstVersions = new Set(clients.map((c) => c.seen[0]));
      expect([...firstVersions].sort()).to.deep.equal(["1.0.0", "1.0.1"]);
    });

    it("sets AWSALBTG and AWSALBTGCORS (SameSite=None; Secure) that expire with the stickiness", async () => {
      await put({ groups: groups(50, 50), stickinessSeconds: 120 });
      const started = Date.now();
      const { setCookies } = await get(lb.url);
      expect(setCookies).to.have.length(2);
      expect(setCookies[0]).to.match(new RegExp(`^${STICKY_COOKIE}=[^;]+; Expires=[^;]+; Path=/$`));
      expect(setCookies[1]).to.match(
        new RegExp(`^${STICKY_CORS_COOKIE}=[^;]+; Expires=[^;]+; Path=/; SameSite=None; Secure$`),
      );
      const expires = Date.parse(/Expires=([^;]+)/.exec(setCookies[0])?.[1] ?? "");
      expect(expires - started).to.be.within(119_000, 122_000);
    });

    it("gives a client without cookies the weighted split", async () => {
      await put({ groups: groups(70, 30), stickinessSeconds: 600 });
      expect(await versions(lb.url, 100)).to.deep.equal({ "1.0.0": 70, "1.0.1": 30 });
    });

    it("lets the cookie go once its group has weight 0 (a rollback), and when it has expired", async () => {
      await put({ groups: groups(0, 100), stickinessSeconds: 1 });
      const client = new CookieClient();
      expect((await client.get(lb.url)).version).to.equal("1.0.1");
      await put({ groups: groups(100, 0), stickinessSeconds: 600 });
      expect((await client.get(lb.url)).version).to.equal("1.0.0");
      await put({ groups: groups(0, 100), stickinessSeconds: 1 });
      const expiring = new CookieClient();
      await expiring.get(lb.url);
      await put({ groups: groups(99, 1), stickinessSeconds: 1 });
      await expiring.get(lb.url);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await expiring.get(lb.url);
      expect(expiring.seen).to.deep.equal(["1.0.1", "1.0.1", "1.0.0"]);
    });

    it("sends header requests by the header route, whatever cookie they carry", async () => {
      await put({ groups: groups(100, 0), stickinessSeconds: 600, headerRoute });
      const client = new CookieClient();
      await client.get(lb.url);
      expect(client.seen).to.deep.equal(["1.0.0"]);
      const cookie = (await get(lb.url)).setCookies.map((c) => c.split(";")[0]).join("; ");
      const answer = await get(lb.url, { cookie, "x-canary": "always" });
      expect(answer.version).to.equal("1.0.1");
      expect(answer.setCookies).to.deep.equal([]);
    });
  });
});
