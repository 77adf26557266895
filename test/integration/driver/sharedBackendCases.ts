import { expect } from "chai";
import { baking, outcome, refusedWhileHeld, SteadyClient, updates, waitFor } from "./driverHarness";
import {
  Backend,
  fileBackend,
  s3Backend,
  SharedStack,
  TEST_LEASE,
  WorkingCopy,
} from "./workingCopies";
import { CliRun } from "../../support/spawnCli";
import { StackOutputs } from "../../../infra/contract/outputs";

/** Blue stable on 1.0.0, green (the canary colour) on 1.0.1, one task each, as committed. */
const COMMITTED = {
  stableColor: "blue",
  blueVersion: "1.0.0",
  greenVersion: "1.0.1",
  desiredCount: "1",
  canaryWeight: "0",
};

interface Status {
  outputs: StackOutputs;
  release: {
    status: string;
    version: string;
    stepIndex: number;
    phase: string;
    gates: { manual: boolean };
  } | null;
  driver: { command: string; pid: number } | null;
}

async function statusIn(copy: WorkingCopy): Promise<Status> {
  const run = await copy.run(["status"]);
  expect(run.code, run.stderr).to.equal(0);
  return run.events[0] as unknown as Status;
}

const stepEvents = (run: CliRun) =>
  run.events
    .filter((e) => e.type === "step")
    .map((e) => (e.release as { stepIndex: number }).stepIndex);

/** The cases below, by name. */
export type SharedBackendCase = "paused-elsewhere" | "lease-takeover" | "abort-elsewhere";

/**
 * A release lives with its stack: two working copies that share nothing but the backend
 * (a folder, or S3 on moto's server) see, continue and stop each other's releases. Real
 * engine, real local platform processes, the real CLI as child processes. Each backend's
 * cases are spread over two test files (sharedBackend*.test.ts, leaseTakeover*.test.ts) of
 * about the same length, so that they run in parallel.
 */
export function describeSharedBackend(kind: "S3" | "file", cases: SharedBackendCase[]): void {
  const makeBackend = kind === "S3" ? s3Backend : fileBackend;
  const test = (name: SharedBackendCase, title: string, body: () => Promise<void>) => {
    if (cases.includes(name)) it(title, body);
  };
  describe(`ecs-canary driver: two working copies on one ${kind} backend`, function () {
    this.timeout(15 * 60_000);
    let backend: Backend;
    let shared: SharedStack | undefined;

    before(async () => {
      backend = await makeBackend();
    });
    after(async () => {
      await backend?.stop();
    });
    afterEach(async () => {
      await shared?.dispose();
      shared = undefined;
    });

    /** A stack deployed from copy A at weight 0; returns A. */
    async function deployedFrom(): Promise<WorkingCopy> {
      shared = new SharedStack(backend, COMMITTED);
      const a = shared.copy("a");
      const first = await a.run(["set-weight", "0"]);
      expect(first.code, first.stderr).to.equal(0);
      return a;
    }

    test(
      "paused-elsewhere",
      "a paused release started in copy A (since deleted) is shown and promoted from copy B, whose settings are stale",
      async () => {
        const a = await deployedFrom();
        const paused = await a.run([
          "rollout",
          "--version",
          "1.0.2",
          "--steps",
          "50,100",
          "--bake",
          "2s",
          "--metrics",
          "off",
          "--interval",
          "1s",
          "--manual",
          "--scale-down-delay",
          "2s",
        ]);
        expect(paused.code, paused.stderr).to.equal(3);
        // The release changed no tracked file of A's.
        expect(a.settingsFile()).to.equal(shared!.committed);
        const url = (await statusIn(a)).outputs.url;
        a.remove();

        const b = shared!.copy("b");
        const client = new SteadyClient(url);
        const status = await statusIn(b);
        expect(status.release).to.include({
          status: "paused",
          version: "1.0.2",
          stepIndex: 0,
          phase: "gating",
        });
        expect(status.release!.gates.manual).to.equal(true);
        expect(status.outputs.weights).to.deep.equal({ blue: 50, green: 50 });
        expect(status.outputs.green.version).to.equal("1.0.2");

        // Step 1 approved: step 2 runs and waits for a person again.
        const approve = await b.run(["promote"]);
        expect(approve.code, approve.stderr).to.equal(3);
        // B recovered the stack's settings instead of applying its stale file, and said so.
        expect(approve.stderr).to.match(
          /settings recovered from its last update.*greenVersion 1\.0\.2 \(file: 1\.0\.1\)/,
        );
        expect(updates(approve.events)).to.deep.equal(["step 2/2: 100% to 1.0.2"]);
        const promote = await b.run(["promote"]);
        await client.stop();
        expect(promote.code, promote.stderr).to.equal(0);
        expect(outcome(promote.events)?.kind).to.equal("promoted");
        expect(updates(promote.events)).to.deep.equal([
          "promote 1.0.2: green becomes stable",
          "scale down blue (1.0.0)",
        ]);
        const after = await statusIn(b);
        expect(after.release).to.include({ status: "promoted", phase: "done" });
        expect(after.outputs.weights).to.deep.equal({ blue: 0, green: 100 });
        expect(after.outputs.stableColor).to.equal("green");
        // The canary colour's old version never came back, and nothing went unanswered.
        expect(client.count(200, "1.0.1"), "answers of green's old version").to.equal(0);
        expect(client.count(200, "1.0.2")).to.be.greaterThan(0);
        expect(client.unanswered).to.equal(0);
        expect(b.settingsFile()).to.equal(shared!.committed);
        expect(b.files().sort()).to.deep.equal(
          ["Pulumi.yaml", `Pulumi.${shared!.name}.yaml`].sort(),
        );
      },
    );

    test(
      "lease-takeover",
      "two drivers at once: one runs, the other exits 5 naming it; the holder killed, the other takes over after the lease expires and repeats no step",
      async () => {
        const a = await deployedFrom();
        const b = shared!.copy("b");
        const args = [
          "rollout",
          "--version",
          "1.0.2",
          "--steps",
          "30,60,100",
          "--bake",
          "5s",
          "--metrics",
          "off",
          "--interval",
          "1s",
          "--scale-down-delay",
          "2s",
        ];
        const runs = [a.start(args), b.start(args)];
        const refused = await Promise.race(runs.map((r, i) => r.done.then((d) => ({ d, i }))));
        expect(refused.d.code, refused.d.stderr).to.equal(5);
        expect(refused.d.stderr).to.match(
          /a driver holds stack itest-shared-.*: `ecs-canary rollout` \(pid \d+ on [^)]+\) has held it since \d{4}-\d\d-\d\dT/,
        );
        const holder = runs[1 - refused.i];
        const other = refused.i === 0 ? a : b;
        await waitFor(
          "step 1 to bake",
          () => (baking(holder.events, 0) ? true : undefined),
          5 * 60_000,
        );
        holder.child.kill("SIGKILL");
        const killed = await holder.done;
        expect(killed.signal).to.equal("SIGKILL");
        const killedAt = Date.now();

        // Within the expiry (20 s) the dead holder's lease still holds.
        const early = await other.run(args);
        let taken: CliRun | undefined;
        if (refusedWhileHeld(early, Number(TEST_LEASE.ECS_CANARY_LEASE_EXPIRY_MS))) {
          expect(Date.now() - killedAt).to.be.below(20_000);
        } else {
          taken = early;
        }
        const deadline = Date.now() + 2 * 60_000;
        while (taken === undefined && Date.now() < deadline) {
          const run = await other.run(args);
          if (run.code !== 5) taken = run;
          else await new Promise((r) => setTimeout(r, 2000));
        }
        expect(taken, "taken over").to.not.equal(undefined);
        expect(taken!.code, taken!.stderr).to.equal(0);
        expect(taken!.stderr).to.match(/took over the lease of stack/);
        expect(taken!.events.find((e) => e.type === "release")?.resumed).to.equal(true);
        expect(outcome(taken!.events)?.kind).to.equal("promoted");
        // Step 1 was shifted by the killed holder only; the new holder went on from its gates.
        const all = [...updates(killed.events), ...updates(taken!.events)];
        expect(all.filter((u) => u.startsWith("step "))).to.deep.equal([
          "step 1/3: 30% to 1.0.2",
          "step 2/3: 60% to 1.0.2",
          "step 3/3: 100% to 1.0.2",
        ]);
        expect(stepEvents(taken!)).to.not.include(0);
        const status = await statusIn(other);
        expect(status.release).to.include({ status: "promoted", phase: "done" });
        expect(status.driver).to.equal(null);
      },
    );

    test(
      "abort-elsewhere",
      "abort from copy B while A's driver runs: A stops at its next check, the stable serves 100 %",
      async () => {
        const a = await deployedFrom();
        const b = shared!.copy("b");
        const running = a.start([
          "rollout",
          "--version",
          "1.0.2",
          "--steps",
          "50,100",
          "--bake",
          "10m",
          "--metrics",
          "off",
          "--interval",
          "1s",
        ]);
        await waitFor(
          "step 1",
          () => (running.events.some((e) => e.type === "step") ? true : undefined),
          5 * 60_000,
        );
        const abort = await b.run(["abort"]);
        expect(abort.code, abort.stderr).to.equal(0);
        const stopped = await running.done;
        expect(stopped.code, stopped.stderr).to.equal(1);
        expect(outcome(stopped.events)?.kind).to.equal("aborted");
        const status = await statusIn(b);
        expect(status.release).to.include({ status: "aborted", phase: "done" });
        expect(status.outputs.weights).to.deep.equal({ blue: 100, green: 0 });
        expect(status.outputs.green.scale).to.equal(0);
        const client = new SteadyClient(status.outputs.url, 200);
        await waitFor("200 requests", () => (client.total() >= 200 ? true : undefined), 60_000);
        await client.stop();
        expect(client.count(200, "1.0.0")).to.equal(client.total());
        expect(a.settingsFile()).to.equal(shared!.committed);
        expect(b.settingsFile()).to.equal(shared!.committed);
      },
    );
  });
}
