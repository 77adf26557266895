import { expect } from "chai";
import { integerArg, parseArgs } from "../../../infra/local/shared/processArgs";

describe("parseArgs", () => {
  it("reads --name=value pairs of known names", () => {
    const args = parseArgs(["--port=0", "--instance=ecs-canary/s/lb-1"], ["port", "instance"]);
    expect(Object.fromEntries(args)).to.deep.equal({ port: "0", instance: "ecs-canary/s/lb-1" });
    expect(integerArg(args, "port", 5, 0, 10)).to.equal(0);
    expect(integerArg(args, "other", 5, 0, 10)).to.equal(5);
  });

  it("refuses unknown names, other shapes and out-of-range integers", () => {
    expect(() => parseArgs(["--prot=1"], ["port"])).to.throw(/unexpected argument "--prot=1"/);
    expect(() => parseArgs(["port=1"], ["port"])).to.throw(/unexpected argument/);
    const args = parseArgs(["--port=70000"], ["port"]);
    expect(() => integerArg(args, "port", 0, 0, 65535)).to.throw(/--port=70000 must be an integer/);
    expect(() => integerArg(parseArgs(["--port=1e3"], ["port"]), "port", 0, 0, 65535)).to.throw();
  });
});
