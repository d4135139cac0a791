import { Registry } from "prom-client";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { EVENT_LOOP_DELAY_METRIC, EVENT_LOOP_SAMPLE_MS, recordEventLoopDelay } from "../../src/server/event-loop-delay.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The histogram as scraped: cumulative count per bound, the sum and the count. */
async function scrape(registry: Registry): Promise<{ le: (bound: string) => number; sum: number; count: number }> {
  const text = await registry.metrics();
  const value = (series: string) => {
    const line = text.split("\n").find((l) => l.startsWith(`${series} `));
    if (line === undefined) throw new Error(`no ${series} in:\n${text}`);
    return Number(line.slice(series.length + 1));
  };
  return {
    le: (bound) => value(`${EVENT_LOOP_DELAY_METRIC}_bucket{le="${bound}"}`),
    sum: value(`${EVENT_LOOP_DELAY_METRIC}_sum`),
    count: value(`${EVENT_LOOP_DELAY_METRIC}_count`),
  };
}

describe("the event-loop delay histogram", () => {
  it("observes the time between timer turns, each in its bucket", async () => {
    // Turns 10 ms apart, then one 130 ms late; after that the clock stands still (0 s samples).
    const times = [0, 10, 20, 150, 160];
    const registry = new Registry();
    const sampler = recordEventLoopDelay(registry, () => (times.length > 1 ? (times.shift() as number) : (times[0] as number)));
    onTestFinished(() => sampler.stop());
    // Four turns use the clock up; on a busy machine they may take a while.
    await vi.waitFor(async () => expect((await scrape(registry)).count).toBeGreaterThanOrEqual(5), { timeout: 10_000, interval: EVENT_LOOP_SAMPLE_MS * 5 });
    sampler.stop();
    const { le, sum, count } = await scrape(registry);
    expect(sum).toBeCloseTo(0.16, 6);
    // Three 10 ms turns at or under 0.011, the late one above 0.1 and at most 0.2, nothing above.
    expect(le("0.1")).toBe(count - 1);
    expect(le("0.2")).toBe(count);
    expect(le("+Inf")).toBe(count);
    expect(le("0.011")).toBe(count - 1);
  });

  it("sees a stall of the real loop, and keeps sampling around it", async () => {
    const registry = new Registry();
    const sampler = recordEventLoopDelay(registry);
    onTestFinished(() => sampler.stop());
    await vi.waitFor(async () => expect((await scrape(registry)).count).toBeGreaterThanOrEqual(3), { timeout: 10_000, interval: EVENT_LOOP_SAMPLE_MS * 5 });
    const blockedUntil = performance.now() + 120;
    while (performance.now() < blockedUntil) {
      // holding the loop, as a long synchronous task would
    }
    const before = await scrape(registry);
    await vi.waitFor(async () => expect((await scrape(registry)).count).toBeGreaterThan(before.count + 1), { timeout: 10_000, interval: EVENT_LOOP_SAMPLE_MS * 5 });
    const { le, sum, count } = await scrape(registry);
    // The stall is one turn of at least 120 ms; the turns before it were counted too.
    expect(count - le("0.1")).toBeGreaterThanOrEqual(1);
    expect(count).toBeGreaterThanOrEqual(4);
    expect(sum).toBeGreaterThan(0.12);
  });

  it("stops sampling when stopped", async () => {
    const registry = new Registry();
    const sampler = recordEventLoopDelay(registry);
    await vi.waitFor(async () => expect((await scrape(registry)).count).toBeGreaterThan(0), { timeout: 10_000, interval: EVENT_LOOP_SAMPLE_MS * 5 });
    sampler.stop();
    const before = (await scrape(registry)).count;
    expect(before).toBeGreaterThan(0);
    await sleep(50);
    expect((await scrape(registry)).count).toBe(before);
  });
});
