import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emptyCounts } from "../../src/canary/counts.js";
import { STOP_REASON } from "../../src/canary/stop-reasons.js";
import { cannotPass, passes, requiredSuccesses } from "../../src/canary/verdict.js";
import { runRelease } from "../../src/release/run-release.js";
import { makeSpec } from "../support/spec.js";
import { randomSha, startEngineHarness, type EngineHarness } from "../release/harness.js";

describe("the canary's required successes: ceil(size × rate)", () => {
  // [arraySize, minSuccessRate, required]
  const table: Array<[number, number, number]> = [
    [1, 1.0, 1],
    [1, 0.5, 1],
    [2, 0.5, 1],
    [3, 1.0, 3],
    [3, 0.5, 2], // 1.5 rounds up: rounding down would pass with one failure too many
    [3, 0.34, 2],
    [3, 0.33, 1],
    [7, 0.3, 3],
    [10, 0.9, 9],
    [10, 0.95, 10],
    [10, 0.7, 7], // 10 × 0.7 is 6.999…9 in floating point: still 7
    [100, 0.99, 99],
    [10_000, 0.999, 9_990],
    [10_000, 0.0001, 1],
  ];
  it.each(table)("size %i at rate %f needs %i", (arraySize, minSuccessRate, required) => {
    const canary = { arraySize, minSuccessRate };
    expect(requiredSuccesses(canary)).toBe(required);
    expect(passes(canary, { ...emptyCounts(), SUCCEEDED: required, FAILED: arraySize - required })).toBe(true);
    expect(passes(canary, { ...emptyCounts(), SUCCEEDED: required - 1, FAILED: arraySize - required + 1 })).toBe(false);
    // Hopeless exactly when one failure more than the rate allows has happened.
    expect(cannotPass(canary, { ...emptyCounts(), FAILED: arraySize - required })).toBe(false);
    expect(cannotPass(canary, { ...emptyCounts(), FAILED: arraySize - required + 1 })).toBe(true);
  });
});

describe("a canary that can no longer pass", () => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await startEngineHarness(["hopeless"]);
  });
  afterAll(async () => h?.close());

  it("is stopped as soon as enough children failed, without waiting for the others", async () => {
    h.emulator.jobs.runFor("hopeless", 1_000); // the others would run for 1,000 polls
    h.emulator.jobs.failChildren("hopeless", [0, 1], { exitCode: 2, early: true });
    const spec = makeSpec({
      name: "hopeless",
      image: { repository: "hopeless" },
      jobDefinition: { name: "hopeless" },
      canary: { jobQueue: "hopeless", arraySize: 4, minSuccessRate: 0.75 },
    });
    const { ctx, events } = h.engine();

    const result = await runRelease(ctx, { spec, commit: randomSha(), branch: "main" });

    expect(result).toMatchObject({ status: "failed", error: { code: "CANARY_FAILED" } });
    expect(result.canary?.failedChildren.map((c) => c.jobId).sort()).toEqual([`${result.canary?.jobId}:0`, `${result.canary?.jobId}:1`]);
    const job = await ctx.backend.platform.describeJob(result.canary?.jobId ?? "");
    expect(job).toMatchObject({ status: "FAILED", statusReason: STOP_REASON.hopeless });
    expect(events.filter((e) => e.type === "canary-progress").length).toBeLessThan(10);
  });
});
