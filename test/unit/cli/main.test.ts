import { expect } from "chai";
import { startCli } from "../../support/spawnCli";

/**
 * The CLI as a child process: bad flags exit 2 with one line before any stack is opened (the
 * stack named here does not exist; opening it would fail with another message and code 4).
 */
describe("ecs-canary refuses bad flags before touching a stack", function () {
  this.timeout(30_000);
  const stack = "no-such-stack-for-flag-tests";

  const cases: [string[], string][] = [
    [
      ["rollout", "--version", "1.0\n2"],
      'ecs-canary: invalid --version "1.0\\n2": must be 1-128 characters of letters, digits and . _ + -, starting with a letter or digit',
    ],
    [
      ["rollout", "--version", "1.0.2", "--interval", "0s"],
      'ecs-canary: invalid --interval "0s": must be at least 1s (the gates are checked at most once a second)',
    ],
    [
      ["plan", "--version", "1.0.2", "--image", "bad image"],
      'ecs-canary: invalid --image "bad image": must be a container image reference such as repo/name:tag or host/repo/name@sha256:<digest> (no spaces)',
    ],
  ];
  for (const [args, line] of cases) {
    it(`${args.join(" ").replace("\n", "\\n")}: exit 2`, async () => {
      const run = await startCli([...args, "--stack", stack]).done;
      expect(run.code).to.equal(2);
      expect(run.stderr).to.equal(`${line}\n`);
      expect(run.events).to.deep.equal([]);
    });
  }
});
