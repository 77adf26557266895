import { StackOutputs } from "../../infra/contract/outputs";

/** What the driver needs of a stack: its settings, an update, and its outputs. */
export interface StackPort {
  readonly name: string;
  /** The stack's settings, keys without the project prefix, values as Pulumi stores them. */
  getConfig(): Promise<Record<string, string>>;
  /** Writes settings (an undefined value removes the key); runs nothing. */
  setConfig(values: Record<string, string | undefined>): Promise<void>;
  /**
   * Runs an update of the stack and returns its outputs; `changes` are written to the settings
   * (as setConfig would) before the update starts, by the same run, and stay written if it fails.
   */
  up(changes?: Record<string, string>): Promise<StackOutputs>;
  /** The outputs of the last update, or undefined if the stack was never deployed. */
  outputs(): Promise<StackOutputs | undefined>;
}
