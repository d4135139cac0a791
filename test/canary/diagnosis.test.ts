import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRelease } from "../../src/release/run-release.js";
import { makeSpec } from "../support/spec.js";
import { randomSha, startEngineHarness, type EngineHarness } from "../release/harness.js";

let h: EngineHarness;
beforeAll(async () => {
  h = await startEngineHarness(["hung", "held", "below-full"]);
});
afterAll(async () => h?.close());

function pipeline(name: string, canary: Record<string, unknown>) {
  return makeSpec({ name, image: { repository: name }, jobDefinition: { name }, canary: { jobQueue: name, ...canary } });
}

describe("canary diagnosis names the children", () => {
  it("a canary at its deadline names each unfinished child with its status and since when", async () => {
    h.emulator.jobs.runFor("hung", 10_000);
    const result = await runRelease(h.engine().ctx, { spec: pipeline("hung", { arraySize: 3, timeoutMinutes: 5, runnableTimeoutMinutes: 5 }), commit: randomSha(), branch: "main" });

    expect(result.error?.code).toBe("CANARY_FAILED");
    const message = result.error?.message ?? "";
    expect(message).toMatch(/did not finish within canary\.timeoutMinutes \(5\)/);
    for (const index of [0, 1, 2]) expect(message).toMatch(new RegExp(`child ${index} RUNNING since \\d{4}-\\d\\d-\\d\\dT`));
  });

  it("a canary stuck in RUNNABLE names the children that waited", async () => {
    h.emulator.jobs.holdRunnable("held");
    const result = await runRelease(h.engine().ctx, { spec: pipeline("held", { arraySize: 2, runnableTimeoutMinutes: 5 }), commit: randomSha(), branch: "main" });

    expect(result.error?.message).toMatch(/RUNNABLE for 5 minutes/);
    expect(result.error?.message).toMatch(/unfinished: child \d RUNNABLE since [^;]+; child \d RUNNABLE since/);
  });

  it("a canary that passes below 100 % lists the children that failed", async () => {
    h.emulator.jobs.failChildren("below-full", [3], { exitCode: 4, reason: "Essential container in task exited" });
    const result = await runRelease(h.engine().ctx, {
      spec: pipeline("below-full", { arraySize: 4, minSuccessRate: 0.75 }),
      commit: randomSha(),
      branch: "main",
    });

    expect(result.status).toBe("promoted");
    expect(result.canary?.summary.FAILED).toBe(1);
    expect(result.canary?.failedChildren).toEqual([expect.objectContaining({ jobId: `${result.canary?.jobId}:3`, exitCode: 4 })]);
  });
});
