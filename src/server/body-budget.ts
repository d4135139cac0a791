/**
 * The bytes of request bodies the service holds at once, across every connection. Slow senders
 * that declare large bodies would otherwise hold memory in proportion to their number; with a
 * budget, one that does not fit is refused at once (503) and what is held stays bounded.
 *
 * A quarter of the budget is kept for bodies up to SMALL_BODY_BYTES, which is what a push
 * delivery is: large bodies filling the budget do not shut out GitHub's ordinary deliveries.
 */
export interface BodyBudget {
  /** Takes `bytes` from the budget; false (nothing taken) when they do not fit. */
  take(bytes: number, bodySize: number): boolean;
  give(bytes: number): void;
  inUse(): number;
}

export const SMALL_BODY_BYTES = 1024 * 1024;

/** The largest body a budget of `totalBytes` can ever admit: what is not kept for small ones. */
export function largestBodyFor(totalBytes: number): number {
  return totalBytes - Math.floor(totalBytes / 4);
}

export function createBodyBudget(totalBytes: number): BodyBudget {
  const largeCeiling = largestBodyFor(totalBytes);
  let used = 0;
  return {
    take(bytes, bodySize) {
      const ceiling = bodySize <= SMALL_BODY_BYTES ? totalBytes : largeCeiling;
      if (used + bytes > ceiling) return false;
      used += bytes;
      return true;
    },
    give(bytes) {
      used = Math.max(0, used - bytes);
    },
    inUse: () => used,
  };
}
