/** Reads `--name=value` arguments; unknown names are an error so that typos do not pass silently. */
export function parseArgs(argv: readonly string[], known: readonly string[]): Map<string, string> {
  const result = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([a-z][a-z0-9-]*)=(.*)$/.exec(arg);
    if (!match || !known.includes(match[1])) {
      throw new Error(
        `unexpected argument ${JSON.stringify(arg)}; known: --${known.join("=, --")}=`,
      );
    }
    result.set(match[1], match[2]);
  }
  return result;
}

export function integerArg(
  args: Map<string, string>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = args.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new Error(`--${name}=${raw} must be an integer from ${min} to ${max}`);
  }
  return value;
}
