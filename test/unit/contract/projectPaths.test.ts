import { expect } from "chai";
import * as path from "path";
import { findProjectRoot, localStateDir } from "../../../infra/contract/projectPaths";

describe("local state folder", () => {
  const files = new Set(["/work/p/Pulumi.yaml"]);
  const isFile = (file: string) => files.has(file);

  it("finds the project from the program's folder (the language host runs it in build/infra)", () => {
    expect(findProjectRoot("/work/p/build/infra/local", isFile)).to.equal("/work/p");
    expect(findProjectRoot("/work/p", isFile)).to.equal("/work/p");
  });

  it("falls back to the starting folder when no Pulumi.yaml is above it", () => {
    expect(findProjectRoot("/elsewhere/x", isFile)).to.equal(path.resolve("/elsewhere/x"));
  });

  it("puts logs under .pulumi-state/local/<stack> unless ECS_CANARY_LOCAL_STATE_DIR says otherwise", () => {
    expect(localStateDir("dev", {}, "/work/p")).to.equal("/work/p/.pulumi-state/local/dev");
    expect(localStateDir("dev", { ECS_CANARY_LOCAL_STATE_DIR: "/tmp/x" }, "/work/p")).to.equal(
      "/tmp/x",
    );
  });
});
