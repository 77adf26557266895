import { StackOutputs } from "../../infra/contract/outputs";

/**
 * What the driver needs of a stack: its settings, an update, its outputs, and its tags (where
 * the release's record and the driver's lease live, in the stack's backend).
 */
export interface StackPort {
  readonly name: string;
  /**
   * Largest tag value the stack's backend takes (releaseTags.ts): TAG_VALUE_MAX (Pulumi Cloud's
   * limit) when unset.
   */
  readonly tagValueMax?: number;
  /**
   * The settings the next update applies, keys without the project prefix, values as Pulumi
   * stores them: the person's settings file, with the settings the driver owns (colours,
   * versions, weight, scale) as the stack's last update applied them, and what this process
   * wrote since.
   */
  getConfig(): Promise<Record<string, string>>;
  /**
   * Settings for the next update of this process (an undefined value removes the key); runs
   * nothing, and writes no tracked file: the update that applies them records them in the
   * stack's history, where any other machine finds them.
   */
  setConfig(values: Record<string, string | undefined>): Promise<void>;
  /**
   * Runs an update of the stack with the settings getConfig gives and returns its outputs.
   * `guard` is called before each attempt (also while the update waits for Pulumi's lock);
   * when it throws, no update runs.
   */
  up(guard?: () => Promise<void>): Promise<StackOutputs>;
  /** The outputs of the last update, or undefined if the stack was never deployed. */
  outputs(): Promise<StackOutputs | undefined>;
  /** The stack's tags, read afresh from its backend. */
  listTags(): Promise<Record<string, string>>;
  /** Writes one tag; it is durable in the backend when this resolves. */
  setTag(name: string, value: string): Promise<void>;
  removeTag(name: string): Promise<void>;
}
