import { ReleaseChangedError } from "../release/errors";
import { ReleaseStore } from "../release/ports";
import { ReleaseState } from "../release/state";
import { StackPort } from "./port";
import { decodeRelease, encodeRelease } from "./releaseTags";

/**
 * The release's record in the stack's tags (see releaseTags.ts), so that every machine that
 * reaches the stack's backend reads the same. A write first checks that the record is still
 * the one this run last read or wrote: when another command (an abort from another machine)
 * changed it meanwhile, the write is refused with a ReleaseChangedError and nothing is written.
 * Backends offer no compare-and-swap on tags, so a write racing another within the moment
 * between that check and its last tag can still win; the README says so.
 */
export class TagReleaseStore implements ReleaseStore {
  /** Generation this run last read or wrote (0: none was recorded); undefined before any. */
  private seen?: number;

  constructor(
    private readonly stack: Pick<StackPort, "name" | "listTags" | "setTag" | "tagValueMax">,
  ) {}

  async read(): Promise<ReleaseState | undefined> {
    const stored = decodeRelease(await this.stack.listTags());
    this.seen = stored?.generation ?? 0;
    return stored?.state;
  }

  async write(state: ReleaseState): Promise<void> {
    const current = await this.unchanged();
    const { writes, generation } = encodeRelease(state, current, this.stack.tagValueMax);
    for (const [name, value] of writes) await this.stack.setTag(name, value);
    this.seen = generation;
  }

  /** Throws a ReleaseChangedError if another command wrote the record since this run did. */
  async assertUnchanged(): Promise<void> {
    await this.unchanged();
  }

  private async unchanged() {
    const current = decodeRelease(await this.stack.listTags());
    const generation = current?.generation ?? 0;
    if (this.seen !== undefined && generation !== this.seen) {
      throw new ReleaseChangedError(
        `the release on stack ${this.stack.name} was changed by another command meanwhile` +
          (current ? ` (now ${current.state.status}, ${current.state.phase})` : ""),
        current?.state,
      );
    }
    return current;
  }
}
