import { expect } from "chai";
import { ReleaseFlags, releaseRequest } from "../../../automation/cli/releaseFlags";
import { UsageError } from "../../../automation/release/errors";

const flags = (overrides: Partial<ReleaseFlags> = {}): ReleaseFlags => ({
  version: "1.0.2",
  steps: "10,100",
  bake: "1m",
  scaleDownDelay: "1m",
  ...overrides,
});

function usageError(overrides: Partial<ReleaseFlags>): string {
  try {
    releaseRequest(flags(overrides));
  } catch (err) {
    expect(err).to.be.instanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`releaseRequest(${JSON.stringify(overrides)}) did not throw`);
}

const VERSION_ALLOWED =
  "must be 1-128 characters of letters, digits and . _ + -, starting with a letter or digit";

describe("releaseRequest", () => {
  it("takes the version and image as given, and --keep-canary", () => {
    const request = releaseRequest(
      flags({ image: "registry.example.com:5000/team/app:1.0.2", keepCanary: true }),
    );
    expect(request).to.deep.include({
      version: "1.0.2",
      image: "registry.example.com:5000/team/app:1.0.2",
      keepCanary: true,
      scaleDownDelayMs: 60_000,
    });
    expect(releaseRequest(flags())).to.not.have.property("image");
    expect(releaseRequest(flags()).keepCanary).to.equal(false);
  });

  it("refuses a version that is not one token, on one line, without trimming it", () => {
    const cases: [string, string][] = [
      ["1.0\n2", `invalid --version "1.0\\n2": ${VERSION_ALLOWED}`],
      [" 1.0.2", `invalid --version " 1.0.2": ${VERSION_ALLOWED}`],
      ["", `invalid --version "": ${VERSION_ALLOWED}`],
      ["1.0.2; rm -rf /", `invalid --version "1.0.2; rm -rf /": ${VERSION_ALLOWED}`],
    ];
    for (const [version, message] of cases) {
      const line = usageError({ version });
      expect(line).to.equal(message);
      expect(line).to.not.contain("\n");
    }
  });

  it("refuses a version given twice", () => {
    expect(usageError({ version: ["1.0.2", "1.0.3"] as unknown as string })).to.equal(
      'invalid --version ["1.0.2","1.0.3"]: give it once, as one value',
    );
  });

  it("refuses an image that is not an image reference", () => {
    for (const image of ["", "app:1.0 extra", "App/Upper", "app:1.0\n"]) {
      expect(usageError({ image })).to.equal(
        `invalid --image ${JSON.stringify(image)}: must be a container image reference such as repo/name:tag or host/repo/name@sha256:<digest> (no spaces)`,
      );
    }
  });

  it("refuses bad steps, bake and gate flags with their own lines", () => {
    expect(usageError({ bake: "soon" })).to.match(/^invalid --bake "soon"/);
    expect(usageError({ interval: "0s" })).to.equal(
      'invalid --interval "0s": must be at least 1s (the gates are checked at most once a second)',
    );
  });
});
