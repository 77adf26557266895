/**
 * Where the time of one `pulumi up` goes, read from the CLI's own log (`-v=7 --logtostderr`:
 * one JSON line per entry, with the time it was written). Each phase ends at the first entry
 * that marks it; a phase whose mark is missing is left out.
 */

/** Phases in order: the entry that ends each one, and what it covers. */
export const PHASES = [
  {
    name: "CLI start, backend, VCS metadata, language host",
    ends: /langhost\[nodejs\]\.Run\(/,
  },
  {
    name: "program process: Node.js + @pulumi/pulumi load",
    ends: /ResourceMonitor\.RegisterResource received: t=pulumi:pulumi:Stack/,
  },
  {
    name: "program: run set-up, our modules, first dynamic resource",
    ends: /ProviderRegistry\.Check\([^)]*pulumi:providers:pulumi-nodejs::default\) executing/,
  },
  {
    name: "dynamic-provider process start",
    ends: /Provider\[[^\]]*\]\.GetPluginInfo\(\) executing/,
  },
  {
    name: "diffs, the balancer's update, checkpoint writes",
    ends: /Saved stack .* checkpoint/,
    last: true,
  },
] as const;

export interface Phase {
  name: string;
  ms: number;
}

interface Entry {
  at: number;
  msg: string;
}

function entries(log: string): Entry[] {
  const out: Entry[] = [];
  for (const line of log.split("\n")) {
    const m = /"time":"([^"]+)","level":"[A-Z]+","msg":"((?:[^"\\]|\\.)*)"/.exec(line);
    if (m) out.push({ at: Date.parse(m[1]), msg: m[2] });
  }
  return out;
}

/**
 * The phases of one update that started at `startedAt` and whose process ended at `endedAt`
 * (ms since the epoch), and how many checkpoints it wrote.
 */
export function updatePhases(
  log: string,
  startedAt: number,
  endedAt: number,
): { phases: Phase[]; checkpoints: number } {
  const all = entries(log);
  const phases: Phase[] = [];
  let from = startedAt;
  for (const phase of PHASES) {
    const hits = all.filter((e) => phase.ends.test(e.msg) && e.at >= from);
    const mark = "last" in phase ? hits.at(-1) : hits[0];
    if (mark === undefined) continue;
    phases.push({ name: phase.name, ms: mark.at - from });
    from = mark.at;
  }
  phases.push({ name: "program and plugin shutdown, CLI end", ms: endedAt - from });
  const checkpoints = all.filter((e) => /Saved stack .* checkpoint/.test(e.msg)).length;
  return { phases, checkpoints };
}
