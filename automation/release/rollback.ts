import { InfrastructureError } from "./errors";
import { Outcome, ReleasePorts, UpdateOptions } from "./ports";
import { Recorder } from "./record";
import { ReleaseState } from "./state";

/**
 * All traffic back to the stable colour and, unless the release keeps it (--keep-canary), the
 * canary colour scaled to 0 in the same update: the listener rule is updated before the task
 * sets, so traffic leaves first, and a version that never becomes healthy does not stop the
 * rollback from converging. A kept canary whose rollback update fails is retried once at 0.
 */
export async function rollBack(
  state: ReleaseState,
  reason: string,
  ports: ReleasePorts,
  recorder: Recorder,
): Promise<Outcome> {
  const aborted = state.phase === "rolling-back" && reason === "aborted";
  let rolling: ReleaseState = {
    ...state,
    status: "running",
    phase: "rolling-back",
    outcome: state.outcome ?? reason,
  };
  if (state.phase !== "rolling-back") {
    rolling = recorder.decide(rolling, "rollback", "fail", reason);
  }
  const canary = `${state.canaryColor} (${state.version})`;
  const stable = `${state.stableColor} (${state.previousVersion})`;
  // Nothing to keep when the settings already scale it to 0 (say, a retried rollback did).
  const keep = rolling.keepCanary === true && (await ports.traffic.routing()).canaryScale > 0;
  let note = keep ? `${canary} keeps running (--keep-canary)` : `${canary} scaled to 0`;
  let failure = await tryRollBack(ports, state, keep, {
    purpose: `roll back: all traffic to ${stable}, ${note}`,
    record: recorder.stamp(rolling),
  });
  if (failure !== undefined && keep) {
    const why = failure.message;
    note = `${canary} could not be kept running (${why}), so it was scaled to 0`;
    rolling = recorder.decide(
      rolling,
      "rollback",
      "fail",
      `the rollback update that kept ${canary} running failed (${why}); retrying once with ${state.canaryColor} scaled to 0`,
    );
    failure = await tryRollBack(ports, state, false, {
      purpose: `roll back again: all traffic to ${stable}, ${canary} scaled to 0`,
      record: recorder.stamp(rolling),
    });
  }
  if (failure !== undefined) {
    const outcome = `${reason}; rollback update failed: ${failure.message}`;
    await recorder.save({ ...rolling, status: "failed", outcome });
    throw new InfrastructureError(
      `rollback of ${state.version} failed: ${failure.message}; the stack is set to 0% canary` +
        ` and ${state.canaryColor} at scale 0`,
      { step: "retry-abort", stack: ports.traffic.name },
    );
  }
  const done: ReleaseState = {
    ...rolling,
    status: aborted ? "aborted" : "rolled-back",
    phase: "done",
  };
  await recorder.save(done);
  return recorder.finish({
    kind: aborted ? "aborted" : "rolled-back",
    detail: { type: "rolled-back", canaryNote: note },
    release: done,
  });
}

/** One rollback update; a failed one is returned, to be retried or reported. */
async function tryRollBack(
  ports: ReleasePorts,
  state: ReleaseState,
  keep: boolean,
  options: UpdateOptions,
): Promise<InfrastructureError | undefined> {
  try {
    await ports.traffic.rollBack(state.stableColor, keep, options);
    return undefined;
  } catch (err) {
    if (!(err instanceof InfrastructureError)) throw err;
    return err;
  }
}

/**
 * Undoes a promotion while the old stable still runs. Scale first, traffic after: if the old
 * stable was scaled down meanwhile (a run stopped between the scale-down and its record), it
 * is scaled up again, and waited for, before it gets traffic back.
 */
export async function swapBack(
  release: ReleaseState & { status: "promoted" },
  keepCanary: boolean | undefined,
  ports: ReleasePorts,
  recorder: Recorder,
): Promise<Outcome> {
  const { traffic } = ports;
  const old = release.stableColor;
  const deployed = await traffic.deployed();
  // The flip itself runs the old stable at 100%: only tasks that are gone need a scale-up first.
  const scaledUp = (deployed ? deployed[old].scale : (await traffic.routing()).canaryScale) === 0;
  if (scaledUp) {
    await traffic.scale(old, 100, {
      purpose: `scale up ${old} (${release.previousVersion}) to 100% before traffic returns to it`,
    });
  }
  const keep = keepCanary === true;
  const promoted = `${release.canaryColor} (${release.version})`;
  const canaryNote = keep ? `${promoted} keeps running (--keep-canary)` : `${promoted} scaled to 0`;
  const swapped: ReleaseState = recorder.decide(
    {
      ...release,
      status: "aborted",
      phase: "done",
      outcome: "promotion undone by a person",
      keepCanary: keep,
    },
    "abort",
    "aborted",
    `promotion undone: ${old} (${release.previousVersion}) serves again; ${canaryNote}`,
  );
  // One update: the rule moves all traffic to the old stable before the task sets change.
  await traffic.promote(old, {
    purpose: `swap back to the previous stable version, ${canaryNote}`,
    record: recorder.stamp(swapped),
    otherScale: keep ? 100 : 0,
  });
  return recorder.finish({
    kind: "aborted",
    detail: { type: "swapped-back", canaryNote, scaledUp },
    release: swapped,
  });
}
