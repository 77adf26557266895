/**
 * What an update reports about itself in its engine events (the JSON lines the CLI writes with
 * `--event-log`, the same events the Automation API's `onEvent` receives): the stack's outputs
 * as the update left them, and its summary. Reading them from the update's own events spares
 * the further `pulumi stack output` and `pulumi stack history` runs the Automation API's `up`
 * makes after every update.
 */

/** The root resource: its outputs are the program's exports. */
const STACK_TYPE = "pulumi:pulumi:Stack";
/** How the engine shows a secret or a value not known yet in its events. */
const HIDDEN_VALUES = new Set(["[secret]", "04da6b54-80e4-46f7-96ec-b56ff0331ba9"]);

export interface UpdateSummary {
  result: string;
  resourceChanges: Record<string, number>;
  durationSeconds: number;
}

export interface UpdateReport {
  /**
   * The stack's outputs after the update; undefined when its events do not hold them all in
   * plain text (no outputs event, or a secret the events mask): read them from the stack then.
   */
  outputs?: Record<string, unknown>;
  summary?: UpdateSummary;
}

interface EngineEvent {
  resOutputsEvent?: {
    metadata?: { type?: string; new?: { outputs?: Record<string, unknown> } };
  };
  summaryEvent?: UpdateSummary;
}

function hidesValues(value: unknown): boolean {
  if (typeof value === "string") return HIDDEN_VALUES.has(value);
  if (Array.isArray(value)) return value.some(hidesValues);
  if (typeof value === "object" && value !== null) return Object.values(value).some(hidesValues);
  return false;
}

/** The report of an update from the text of its event log (one JSON event per line). */
export function updateReport(eventLog: string): UpdateReport {
  const report: UpdateReport = {};
  let outputs: Record<string, unknown> | undefined;
  for (const line of eventLog.split("\n")) {
    if (line.trim() === "") continue;
    let event: EngineEvent;
    try {
      event = JSON.parse(line) as EngineEvent;
    } catch {
      continue; // a line cut short by a killed CLI
    }
    const meta = event.resOutputsEvent?.metadata;
    if (meta?.type === STACK_TYPE) outputs = meta.new?.outputs ?? {};
    if (event.summaryEvent) report.summary = event.summaryEvent;
  }
  if (outputs !== undefined && !hidesValues(outputs)) report.outputs = outputs;
  return report;
}
