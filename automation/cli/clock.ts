/**
 * The longest delay one Node.js timer takes: a longer one is set to 1 ms (Node.js docs,
 * timers: "When delay is larger than 2147483647 or less than 1, the delay will be set to 1"),
 * which would end a long scale-down delay or bake at once.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** Resolves after `ms` (in timer-sized pieces, however long), or early when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal, maxTimerMs = MAX_TIMER_MS): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const end = Date.now() + ms;
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const next = () => {
      const left = end - Date.now();
      if (left <= 0) return done();
      timer = setTimeout(next, Math.min(left, maxTimerMs));
    };
    signal?.addEventListener("abort", done, { once: true });
    next();
  });
}
