import { parseSettings } from "../../infra/contract/settings";
import { formatDuration } from "../release/duration";
import { gateNames } from "../release/state";
import { workingCopy } from "../stack/environment";
import { describeHolder, LEASE_TAG, parseLease } from "../stack/lease";
import { PulumiStack } from "../stack/pulumiStack";
import { releaseOf } from "../stack/releaseTags";
import { describePosition } from "./describe";
import { EXIT } from "./exitCodes";

/** `status`: what the stack says, from anywhere; reads only. */
export async function printStatus(stackName: string, json: boolean): Promise<number> {
  const stack = await PulumiStack.open(stackName, { workDir: workingCopy() });
  const [config, outputs, tags] = [
    await stack.getConfig(),
    await stack.outputs(),
    await stack.listTags(),
  ];
  const release = releaseOf(tags);
  const lease = parseLease(tags[LEASE_TAG]);
  if (json) {
    const body = {
      stack: stackName,
      config,
      outputs: outputs ?? null,
      release: release ?? null,
      driver: lease ?? null,
    };
    process.stdout.write(`${JSON.stringify(body)}\n`);
    return EXIT.ok;
  }
  const s = parseSettings((key) => config[key]);
  const lines = [
    `stack ${stackName} (platform ${s.platform})${outputs ? `: ${outputs.url}` : ", not deployed yet"}`,
  ];
  const weight = (c: "blue" | "green") =>
    outputs ? `${outputs.weights[c]}% applied` : "not applied";
  lines.push(`  stable ${s.stableColor} ${s[s.stableColor].version} (${weight(s.stableColor)})`);
  lines.push(
    `  canary ${s.canaryColor} ${s[s.canaryColor].version} (${weight(s.canaryColor)}, setting canaryWeight=${s.canaryWeight}, scale ${s.canaryScale}%)`,
  );
  if (release) {
    const age = formatDuration(Date.now() - release.startedAt);
    lines.push(
      `release ${release.version} (${release.previousVersion} before): ${release.status}, ${describePosition(release)}, started ${age} ago`,
    );
    lines.push(`  gates: ${gateNames(release.gates).join(", ")}`);
    if (release.outcome) lines.push(`  outcome: ${release.outcome}`);
    for (const d of release.decisions.slice(-5)) {
      lines.push(
        `  ${new Date(d.at).toISOString()} step ${d.step} (${d.weight}%) ${d.gate} ${d.verdict}: ${d.reason}`,
      );
    }
  } else {
    lines.push("no release recorded");
  }
  if (lease) lines.push(`driver: ${describeHolder(lease, Date.now())}`);
  process.stdout.write(`${lines.join("\n")}\n`);
  return EXIT.ok;
}
