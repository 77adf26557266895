import { MetricsSource } from "../../infra/contract/outputs";
import { cloudwatchSource } from "./cloudwatch";
import { localSource } from "./local";
import { MetricsReader, MetricsSourceKind } from "./reader";

/**
 * Every kind of metrics source, by the stack output's `metricsSource.kind`. A new kind: its
 * output in infra/contract/outputs.ts (which its platform writes), its module, one line here.
 */
const SOURCES: { [K in MetricsSource["kind"]]: MetricsSourceKind<K> } = {
  cloudwatch: cloudwatchSource,
  local: localSource,
};

/** The reader of a stack's metrics, as its `metricsSource` output describes them. */
export function metricsReaderFor(output: MetricsSource): MetricsReader {
  const kinds = Object.keys(SOURCES);
  if (!kinds.includes(output.kind)) {
    throw new Error(
      `the stack output metricsSource.kind must be one of ${kinds.join(", ")}, got ${JSON.stringify(output.kind)}`,
    );
  }
  const source = SOURCES[output.kind] as MetricsSourceKind<MetricsSource["kind"]>;
  return source.open(output);
}
