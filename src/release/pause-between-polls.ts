import type { ChangeWatch } from "./change-feed.js";
import type { EngineContext } from "./context.js";

/**
 * The wait before the next poll of a build or a canary job. Without a change feed: the poll
 * interval, as always. With one: the long safety-net interval, ended early by a change about the
 * subject — then a short settle pause, so a burst (every child of an array reporting at once)
 * becomes one poll. `soon` caps the wait at the poll interval (a change still ends it earlier):
 * the last poll is not to be trusted to stay as it is (the first one, made before the watch;
 * counts not settled; an end reported that the poll did not show yet), and nothing may announce
 * the catch-up. While the feed is deaf (its queue cannot be read) the wait is the poll interval:
 * polling works as without a feed.
 */
export async function pauseBeforePoll(ctx: EngineContext, watch: ChangeWatch | undefined, intervalMs: number, soon: boolean): Promise<PauseEnd> {
  if (watch === undefined || !watch.live()) {
    await ctx.sleep(intervalMs);
    return { endReported: takeEnd(watch) };
  }
  const waitMs = soon ? Math.min(intervalMs, ctx.polling.safetyNetIntervalMs) : ctx.polling.safetyNetIntervalMs;
  const stop = new AbortController();
  let woken: boolean;
  try {
    woken = await Promise.race([ctx.sleep(waitMs, stop.signal).then(() => false), watch.changed(stop.signal)]);
  } finally {
    stop.abort();
  }
  if (woken) await ctx.sleep(ctx.polling.changeSettleMs);
  return { endReported: takeEnd(watch) };
}

export interface PauseEnd {
  /** A change during the pause reported the subject ended: until a poll shows it, poll soon. */
  endReported: boolean;
}

/** Right before the poll, which sees what has arrived so far: later changes wake the next pause. */
function takeEnd(watch: ChangeWatch | undefined): boolean {
  if (watch === undefined) return false;
  const ended = watch.endReported();
  watch.reset();
  return ended;
}
