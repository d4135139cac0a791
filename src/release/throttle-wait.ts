import { isBatchshipError } from "../errors.js";
import type { Sleep } from "./ports.js";

/**
 * How long one call waits out throttling, in pauses summed, before its error is final. A
 * throttling storm slows releases and fails none; a refusal that lasts longer than this is an
 * outage, not a rate.
 */
export const THROTTLE_BUDGET_MS = 15 * 60_000;
/** The longest single pause: the pauses double from the retry delay up to this. */
const MAX_THROTTLE_PAUSE_MS = 60_000;

/** One call's throttling so far. */
export interface ThrottleWait {
  rounds: number;
  waitedMs: number;
}

export function isThrottled(error: unknown): boolean {
  return isBatchshipError(error) && error.throttled;
}

/**
 * After a throttled call: pauses (`baseMs`, doubling, at most a minute) and returns true to try
 * again, or returns false at once when the budget is spent. Throttled attempts do not count
 * against a caller's attempts for other failures.
 */
export async function waitOutThrottling(wait: ThrottleWait, baseMs: number, sleep: Sleep): Promise<boolean> {
  if (wait.waitedMs >= THROTTLE_BUDGET_MS) return false;
  const pause = Math.min(Math.max(baseMs, 1) * 2 ** Math.min(wait.rounds, 16), MAX_THROTTLE_PAUSE_MS, THROTTLE_BUDGET_MS - wait.waitedMs);
  wait.rounds++;
  wait.waitedMs += pause;
  await sleep(pause);
  return true;
}
