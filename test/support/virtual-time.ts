import type { Clock, Sleep } from "../../src/release/ports.js";

/**
 * A clock that moves only when the engine sleeps: a 30-minute canary deadline passes in
 * microseconds, and every run takes the same path. Starts at the real time so timestamps the
 * emulator puts on jobs line up with it.
 */
export function virtualTime(start = Date.now()): { clock: Clock; sleep: Sleep; elapsedMs: () => number } {
  let now = start;
  return {
    clock: { now: () => now },
    sleep: async (ms) => {
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
    elapsedMs: () => now - start,
  };
}
