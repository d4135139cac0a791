import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRelease } from "../../src/release/run-release.js";
import { makeSpec } from "../support/spec.js";
import { randomSha, startEngineHarness, type EngineHarness } from "./harness.js";

let h: EngineHarness;
beforeAll(async () => {
  h = await startEngineHarness(["nowait", "nowait-done", "nowait-fail"]);
});
afterAll(async () => h?.close());

function pipeline(name: string) {
  return makeSpec({ name, image: { repository: name }, jobDefinition: { name }, canary: { jobQueue: name } });
}

describe("release with wait: false", () => {
  it("returns once the canary is submitted; a waiting run follows that canary and promotes", async () => {
    h.emulator.jobs.runFor("nowait", 3);
    const spec = pipeline("nowait");
    const commit = randomSha();
    const calls = h.mark();

    const early = await runRelease(h.engine().ctx, { spec, commit, branch: "main", wait: false });
    expect(early).toMatchObject({ status: "canary-running", canary: { result: "running" }, production: null });
    expect(early.error).toBeUndefined();
    expect(early.stages.map((s) => s.stage)).toEqual(["build", "candidate", "canary"]);
    expect(calls()("DescribeJobs")).toBeLessThanOrEqual(2);

    const waited = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    expect(waited).toMatchObject({ status: "promoted", canary: { jobId: early.canary?.jobId, result: "passed" } });
    expect(calls()("SubmitJob")).toBe(1);
    expect(calls()("StartBuild")).toBe(1);
  });

  it("reports the verdict of a canary that already finished", async () => {
    const spec = pipeline("nowait-done");
    const commit = randomSha();
    await runRelease(h.engine().ctx, { spec, commit, branch: "main" });

    const again = await runRelease(h.engine().ctx, { spec, commit, branch: "main", wait: false });
    expect(again).toMatchObject({ status: "promoted", canary: { result: "passed" } });
  });

  it("a canary that failed is reported as failed by a later run without waiting", async () => {
    h.emulator.jobs.failChildren("nowait-fail", [0]);
    h.emulator.jobs.runFor("nowait-fail", 3);
    const spec = pipeline("nowait-fail");
    const commit = randomSha();

    const early = await runRelease(h.engine().ctx, { spec, commit, branch: "main", wait: false });
    const waited = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    const later = await runRelease(h.engine().ctx, { spec, commit, branch: "main", wait: false });

    expect(early.status).toBe("canary-running");
    expect(waited).toMatchObject({ status: "failed", error: { code: "CANARY_FAILED" } });
    expect(later).toMatchObject({ status: "failed", error: { code: "CANARY_FAILED" }, canary: { jobId: early.canary?.jobId } });
  });
});
