import { describe, expect, it } from "vitest";
import { onPollBeat } from "../../src/service/poll-beat.js";

describe("the poll beat", () => {
  it("ends pauses of one interval on the same moments, whenever they start, never sooner than half the interval", async () => {
    let now = 1_000_000_123;
    const slept: number[] = [];
    const sleep = onPollBeat(async (ms) => void slept.push(ms), () => now);
    const ends: number[] = [];
    for (const start of [1_000_000_123, 1_000_007_000, 1_000_011_999, 1_000_014_999]) {
      now = start;
      slept.length = 0;
      await sleep(15_000);
      const pause = slept[0] ?? NaN;
      expect(pause).toBeGreaterThanOrEqual(7_500);
      expect(pause).toBeLessThanOrEqual(22_500);
      ends.push(start + pause);
    }
    // Every end is on the 15-second beat; starts within one beat share their end.
    expect(ends.every((end) => end % 15_000 === 0)).toBe(true);
    expect(new Set(ends.slice(0, 2)).size).toBe(1);
    // A zero pause stays zero.
    slept.length = 0;
    await sleep(0);
    expect(slept).toEqual([0]);
  });
});
