/** Bad flag, plan or setting given by the user: one clear line, nothing changed. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Another driver holds the stack's release. */
export class ReleaseInProgressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReleaseInProgressError";
  }
}
