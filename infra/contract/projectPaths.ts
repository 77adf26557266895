import * as fs from "fs";
import * as path from "path";

/**
 * Where the local processes' logs go: `$ECS_CANARY_LOCAL_STATE_DIR` when set,
 * else `.pulumi-state/local/<stack>` in the project (git-ignored). The project
 * is found from the program's directory: the Node.js language host runs the
 * program in the folder of `main` (build/infra), and the SDK's root directory
 * is the literal "rootDirectory" when the language host does not pass one.
 */
export function findProjectRoot(start: string, isFile: (file: string) => boolean): string {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (isFile(path.join(dir, "Pulumi.yaml"))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(start);
  }
}

export function localStateDir(stack: string, env: NodeJS.ProcessEnv, projectRoot: string): string {
  return env.ECS_CANARY_LOCAL_STATE_DIR || path.join(projectRoot, ".pulumi-state", "local", stack);
}

export function isFile(file: string): boolean {
  return fs.statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
}
