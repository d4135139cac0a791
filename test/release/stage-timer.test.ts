import { describe, expect, it } from "vitest";
import { DEFAULT_POLLING, type EngineContext } from "../../src/release/context.js";
import type { ReleaseEvent } from "../../src/release/events.js";
import { ReleaseInterrupted, type Backend } from "../../src/release/ports.js";
import type { StageRecord } from "../../src/release/result.js";
import { timed } from "../../src/release/stage-timer.js";

function engine() {
  let now = 1_000;
  const events: ReleaseEvent[] = [];
  const ctx: EngineContext = {
    backend: {} as Backend,
    clock: { now: () => now },
    sleep: async (ms) => {
      now += ms;
    },
    observe: (event) => events.push(event),
    polling: DEFAULT_POLLING,
  };
  return { ctx, events, advance: (ms: number) => (now += ms) };
}

describe("a timed stage", () => {
  it("that the caller interrupts ends interrupted, not failed, and lets the interruption through", async () => {
    class Stopping extends ReleaseInterrupted {}
    const { ctx, events, advance } = engine();
    const records: StageRecord[] = [];
    const stopped = new Stopping("stopping");

    const run = timed(ctx, records, "canary", async () => {
      advance(4_000);
      throw stopped;
    });

    await expect(run).rejects.toBe(stopped);
    expect(records).toEqual([{ stage: "canary", startedAt: 1_000, durationMs: 4_000, outcome: "interrupted", detail: "stopping" }]);
    expect(events).toEqual([
      { type: "stage-started", stage: "canary" },
      { type: "stage-finished", stage: "canary", startedAt: 1_000, durationMs: 4_000, outcome: "interrupted", detail: "stopping" },
    ]);
  });

  it("that throws anything else ends failed", async () => {
    const { ctx, events } = engine();
    await expect(timed(ctx, [], "build", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(events.at(-1)).toMatchObject({ type: "stage-finished", stage: "build", outcome: "failed", detail: "boom" });
  });
});
