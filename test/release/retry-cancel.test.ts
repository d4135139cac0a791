import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cancelRelease } from "../../src/release/cancel-release.js";
import { runRelease } from "../../src/release/run-release.js";
import { STOP_REASON } from "../../src/canary/stop-reasons.js";
import { TAG } from "../../src/release/tags.js";
import { makeSpec } from "../support/spec.js";
import { randomSha, startEngineHarness, type EngineHarness } from "./harness.js";

const QUEUES = ["canary-retry", "build-retry", "cancel-mid", "cancel-early", "cancel-done", "pruned-failed", "pruned-retry", "pruned-passed"];

let h: EngineHarness;
beforeAll(async () => {
  h = await startEngineHarness(QUEUES);
});
afterAll(async () => h?.close());
beforeEach(() => {
  h.emulator.jobs.clear();
  h.emulator.builds.clear();
});

function pipeline(name: string) {
  return makeSpec({ name, image: { repository: name }, jobDefinition: { name }, canary: { jobQueue: name } });
}

describe("retry", () => {
  it("reports a failed canary again, and runs one new canary on the same candidate only when asked", async () => {
    h.emulator.jobs.failChildren("canary-retry", [2], { exitCode: 137, reason: "Host EC2 (instance i-0abc) terminated." });
    const spec = pipeline("canary-retry");
    const commit = randomSha();
    const first = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    expect(first).toMatchObject({ status: "failed", error: { code: "CANARY_FAILED" } });
    h.emulator.jobs.clear(); // the Spot interruption is over

    const calls = h.mark();
    const again = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    expect(again).toMatchObject({ status: "failed", canary: { jobId: first.canary?.jobId } });
    expect(again.error?.hint).toMatch(/--retry/);
    expect(calls()("SubmitJob")).toBe(0);

    const retried = await runRelease(h.engine().ctx, { spec, commit, branch: "main", retry: true });
    expect(retried.status).toBe("promoted");
    expect(retried.candidate).toEqual(first.candidate);
    expect(retried.canary?.jobId).not.toBe(first.canary?.jobId);
    const count = calls();
    expect(count("StartBuild")).toBe(0);
    expect(count("SubmitJob")).toBe(1);
    expect(count("RegisterJobDefinition")).toBe(1); // production only: the candidate is the same
    const [job] = await h.engine().ctx.backend.platform.findJobs("canary-retry", `batchship-${first.releaseId}-attempt-2`);
    expect(job?.jobId).toBe(retried.canary?.jobId);

    // A retry of a release that passed runs nothing again.
    const repeated = await runRelease(h.engine().ctx, { spec, commit, branch: "main", retry: true });
    expect(repeated).toMatchObject({ status: "promoted", canary: { jobId: retried.canary?.jobId }, production: retried.production });
    expect(calls()("SubmitJob")).toBe(1);
  });

  it("reports a failed build again, and builds again only when asked", async () => {
    h.emulator.builds.failNext({ phase: "BUILD", message: "network flake" });
    const spec = pipeline("build-retry");
    const commit = randomSha();
    const calls = h.mark();

    const failed = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    const again = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    expect(failed.error?.code).toBe("BUILD_FAILED");
    expect(again.error).toMatchObject({ code: "BUILD_FAILED", message: failed.error?.message });
    expect(again.error?.hint).toMatch(/--retry/);
    expect(calls()("StartBuild")).toBe(1);

    const retried = await runRelease(h.engine().ctx, { spec, commit, branch: "main", retry: true });
    expect(retried.status).toBe("promoted");
    expect(retried.build?.id).not.toBe(failed.build?.id);
    expect(calls()("StartBuild")).toBe(2);
  });
});

describe("cancel", () => {
  it("stops a running canary: the release ends cancelled, a re-run reports it, a retry runs a new canary", async () => {
    h.emulator.jobs.runFor("cancel-mid", 1_000);
    const spec = pipeline("cancel-mid");
    const commit = randomSha();
    const { ctx, events } = h.engine();
    const running = runRelease(ctx, { spec, commit, branch: "main" });
    await until(() => events.some((e) => e.type === "canary-progress"));

    const cancelled = await cancelRelease(h.engine().ctx, spec, commit);
    const result = await running;

    expect(result).toMatchObject({ status: "cancelled", error: { code: "CANCELLED" }, production: null });
    expect(cancelled.canary?.stoppedJobs).toEqual([result.canary?.jobId]);
    const job = await ctx.backend.platform.describeJob(result.canary?.jobId ?? "");
    expect(job).toMatchObject({ status: "FAILED", statusReason: STOP_REASON.cancelled });
    const [candidate] = await ctx.backend.platform.listJobDefinitionRevisions("cancel-mid-canary");
    expect(candidate?.tags[TAG.canary]).toBe("cancelled");
    expect(await ctx.backend.platform.listJobDefinitionRevisions("cancel-mid")).toEqual([]);

    h.emulator.jobs.clear();
    const calls = h.mark();
    const again = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    expect(again.status).toBe("cancelled");
    expect(calls()("SubmitJob")).toBe(0);
    await expect(cancelRelease(h.engine().ctx, spec, commit)).rejects.toMatchObject({ code: "NOTHING_TO_CANCEL" });

    const retried = await runRelease(h.engine().ctx, { spec, commit, branch: "main", retry: true });
    expect(retried.status).toBe("promoted");
    expect(calls()("SubmitJob")).toBe(1);
    expect(calls()("StartBuild")).toBe(0);
  });

  it("stops a running build: the release ends cancelled", async () => {
    h.emulator.builds.slow(1_000);
    const spec = pipeline("cancel-early");
    const commit = randomSha();
    const { ctx, events } = h.engine();
    const running = runRelease(ctx, { spec, commit, branch: "main" });
    await until(() => events.some((e) => e.type === "build-phase"));

    const cancelled = await cancelRelease(h.engine().ctx, spec, commit);
    const result = await running;

    expect(cancelled.build?.id).toBeDefined();
    expect(result).toMatchObject({ status: "cancelled", error: { code: "CANCELLED" }, candidate: null });
    expect(await ctx.backend.platform.listJobDefinitionRevisions("cancel-early-canary")).toEqual([]);
  });

  it("says there is nothing to cancel for a release that finished", async () => {
    const spec = pipeline("cancel-done");
    const commit = randomSha();
    await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    await expect(cancelRelease(h.engine().ctx, spec, commit)).rejects.toMatchObject({
      code: "NOTHING_TO_CANCEL",
      message: expect.stringMatching(/already ended: passed/),
    });
  });
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!condition()) throw new Error("condition not reached");
}

/** Retention deregistered the candidate, and Batch has since let the canary job go (about 7 days). */
async function pruneCandidateAndJob(candidateArn: string, canaryJobId: string): Promise<void> {
  await h.engine().ctx.backend.platform.deregisterJobDefinition(candidateArn);
  h.emulator.jobs.expire(canaryJobId);
}

describe("a release run again after retention deregistered its candidate", () => {
  it("a failed one: reported again without a canary, and `--retry` runs the next attempt at once", async () => {
    h.emulator.jobs.failChildren("pruned-failed", [1]);
    const spec = pipeline("pruned-failed");
    const commit = randomSha();
    const first = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    expect(first).toMatchObject({ status: "failed", error: { code: "CANARY_FAILED" } });
    await pruneCandidateAndJob(first.candidate?.arn ?? "", first.canary?.jobId ?? "");
    h.emulator.jobs.clear();

    const calls = h.mark();
    const again = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    expect(again).toMatchObject({ status: "failed", error: { code: "CANARY_FAILED", hint: expect.stringMatching(/--retry/) } });
    expect(calls()("SubmitJob")).toBe(0);
    // Registered again, with the verdict of the one retention took.
    expect(again.candidate?.arn).not.toBe(first.candidate?.arn);
    expect(calls()("RegisterJobDefinition")).toBe(1);

    const retried = await runRelease(h.engine().ctx, { spec, commit, branch: "main", retry: true });
    expect(retried.status).toBe("promoted");
    expect(retried.candidate).toEqual(again.candidate);
    expect(calls()("SubmitJob")).toBe(1);
    const [attempt2] = await h.engine().ctx.backend.platform.findJobs("pruned-failed", `batchship-${first.releaseId}-attempt-2`);
    expect(attempt2?.jobId).toBe(retried.canary?.jobId);
  });

  it("a failed one whose job Batch still has: the first `--retry` runs attempt 2, not attempt 1's job again", async () => {
    h.emulator.jobs.failChildren("pruned-retry", [0]);
    const spec = pipeline("pruned-retry");
    const commit = randomSha();
    const first = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    expect(first.status).toBe("failed");
    await h.engine().ctx.backend.platform.deregisterJobDefinition(first.candidate?.arn ?? "");
    h.emulator.jobs.clear();

    const calls = h.mark();
    const retried = await runRelease(h.engine().ctx, { spec, commit, branch: "main", retry: true });

    expect(retried.status).toBe("promoted");
    expect(retried.canary?.jobId).not.toBe(first.canary?.jobId);
    expect(calls()("SubmitJob")).toBe(1);
    const [attempt2] = await h.engine().ctx.backend.platform.findJobs("pruned-retry", `batchship-${first.releaseId}-attempt-2`);
    expect(attempt2?.jobId).toBe(retried.canary?.jobId);
  });

  it("a promoted one: no canary runs again, though Batch no longer has the job", async () => {
    const spec = pipeline("pruned-passed");
    const commit = randomSha();
    const start = h.emulator.calls.length;
    const first = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    expect(first.status).toBe("promoted");
    // A release that built its image looks for no deregistered candidate: it had none.
    const listings = h.emulator.calls.slice(start).filter((c) => c.operation === "DescribeJobDefinitions" && c.input.status === "INACTIVE");
    expect(listings).toEqual([]);
    await pruneCandidateAndJob(first.candidate?.arn ?? "", first.canary?.jobId ?? "");

    const calls = h.mark();
    const again = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });

    expect(again).toMatchObject({ status: "promoted", production: first.production, canary: { result: "passed", jobId: first.canary?.jobId } });
    expect(calls()("SubmitJob")).toBe(0);
    const candidates = await h.engine().ctx.backend.platform.listJobDefinitionRevisions("pruned-passed-canary");
    expect(candidates[0]?.tags).toMatchObject({ [TAG.release]: first.releaseId, [TAG.canary]: "passed", [TAG.canaryJob]: first.canary?.jobId });
  });
});
