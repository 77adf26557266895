import { StackOutputs } from "../../infra/contract/outputs";

/** What the driver needs of a stack: its settings, an update, and its outputs. */
export interface StackPort {
  readonly name: string;
  /** The stack's settings, keys without the project prefix, values as Pulumi stores them. */
  getConfig(): Promise<Record<string, string>>;
  /** Writes settings (an undefined value removes the key); runs nothing. */
  setConfig(values: Record<string, string | undefined>): Promise<void>;
  /** Runs an update of the stack with its current settings and returns its outputs. */
  up(): Promise<StackOutputs>;
  /** The outputs of the last update, or undefined if the stack was never deployed. */
  outputs(): Promise<StackOutputs | undefined>;
}
