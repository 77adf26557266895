import { dump, load } from "js-yaml";
import { errorLine, UsageError } from "../release/errors";

/** The project's namespace of settings in a stack file (`ecs-canary:canaryWeight`). */
export const NAMESPACE = "ecs-canary";

/**
 * The settings the driver changes as a release moves (stackTraffic.ts writes them). They are
 * recovered from the stack's last update, not from the settings file: a file checked out on
 * another machine holds what was committed, not what was deployed since.
 */
export const DRIVER_KEYS = [
  "stableColor",
  "canaryWeight",
  "canaryScale",
  "blueVersion",
  "greenVersion",
  "blueImage",
  "greenImage",
] as const;

/** A stack settings file as YAML, and its project settings as Pulumi hands them to a program. */
export interface SettingsFile {
  /** The whole document (config, encryption salt, secrets provider, environment). */
  doc: Record<string, unknown>;
  /** Settings of the project's namespace, keys without it; secure values are left out. */
  config: Record<string, string>;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads a stack settings file's text (empty when the stack has no file). */
export function parseSettingsFile(text: string, name: string): SettingsFile {
  let parsed: unknown;
  try {
    parsed = text.trim() === "" ? {} : load(text);
  } catch (err) {
    throw new UsageError(`invalid stack file ${name}: ${errorLine((err as Error).message)}`);
  }
  const doc = isMap(parsed) ? parsed : {};
  const config: Record<string, string> = {};
  for (const [key, raw] of Object.entries(isMap(doc.config) ? doc.config : {})) {
    if (!key.startsWith(`${NAMESPACE}:`) || raw === null || raw === undefined) continue;
    if (isMap(raw) && "secure" in raw) continue;
    config[key.slice(NAMESPACE.length + 1)] = typeof raw === "string" ? raw : JSON.stringify(raw);
  }
  return { doc, config };
}

/** A setting the file says otherwise than the stack's last update. */
export interface Recovered {
  key: string;
  file: string | undefined;
  deployed: string | undefined;
}

/**
 * The settings the next update starts from: the file's, with the driver's keys as the stack's
 * last update applied them (`lastUpdate`, keys without namespace; undefined when the stack has
 * had no update, and the file's are used). Says which of the driver's keys the file has stale.
 */
export function reconcile(
  file: Record<string, string>,
  lastUpdate: Record<string, string> | undefined,
): { config: Record<string, string>; recovered: Recovered[] } {
  if (lastUpdate === undefined) return { config: { ...file }, recovered: [] };
  const config = { ...file };
  const recovered: Recovered[] = [];
  for (const key of DRIVER_KEYS) {
    const deployed = lastUpdate[key];
    if (deployed === undefined) delete config[key];
    else config[key] = deployed;
    if (file[key] !== undefined && file[key] !== deployed) {
      recovered.push({ key, file: file[key], deployed });
    }
  }
  return { config, recovered };
}

/** One line for people: which settings came from the stack's last update instead of the file. */
export function describeRecovered(stack: string, fileName: string, recovered: Recovered[]): string {
  const items = recovered.map((r) => `${r.key} ${r.deployed ?? "(unset)"} (file: ${r.file})`);
  return `stack ${stack}: settings recovered from its last update, ${fileName} is older: ${items.join(", ")}`;
}

/**
 * The text of the settings file an update runs with (`pulumi up --config-file`): the person's
 * file as it is (secure values, salt and provider included), with the settings that differ
 * from it set to `config`'s. It is written outside the tracked files, so an update dirties none.
 */
export function settingsFileText(file: SettingsFile, config: Record<string, string>): string {
  const merged: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(isMap(file.doc.config) ? file.doc.config : {})) {
    const bare = key.startsWith(`${NAMESPACE}:`) ? key.slice(NAMESPACE.length + 1) : undefined;
    // Kept as written unless it is one of the project's plain settings that `config` changes.
    if (bare === undefined || !(bare in file.config) || file.config[bare] === config[bare]) {
      merged[key] = value;
    }
  }
  for (const [key, value] of Object.entries(config)) {
    if (file.config[key] !== value) merged[`${NAMESPACE}:${key}`] = value;
  }
  return dump({ ...file.doc, config: merged }, { lineWidth: -1 });
}
