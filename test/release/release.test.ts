import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { promoteRelease } from "../../src/release/promote-release.js";
import { rollbackPipeline } from "../../src/release/rollback.js";
import { runRelease } from "../../src/release/run-release.js";
import { TAG } from "../../src/release/tags.js";
import { registerCandidate } from "../../src/release/stages/candidate.js";
import { releaseIdFor } from "../../src/release/release-id.js";
import { pipelineStatus } from "../../src/release/status.js";
import { makeSpec } from "../support/spec.js";
import { randomSha, startEngineHarness, type EngineHarness } from "./harness.js";

const QUEUES = ["pass", "fail", "tolerate", "stuck", "ondemand", "stuck-only", "manual", "twice", "rollback", "slow", "late", "build", "heartbeat", "rebuild", "history", "same-image", "late-again", "overtaken", "followed"];

let h: EngineHarness;
beforeAll(async () => {
  h = await startEngineHarness(QUEUES);
});
afterAll(async () => h?.close());

/** One pipeline per test, on its own queue, so scripts and revisions never mix. */
function pipeline(name: string, canary: Record<string, unknown> = {}, promotion: "auto" | "manual" = "auto") {
  return makeSpec({
    name,
    image: { repository: name },
    jobDefinition: { name },
    canary: { jobQueue: name, ...canary },
    promotion: { mode: promotion },
  });
}

describe("release", () => {
  it("builds, registers a candidate, runs the canary and promotes", async () => {
    const spec = pipeline("pass");
    const commit = randomSha();
    const calls = h.mark();
    const { ctx, events } = h.engine();

    const result = await runRelease(ctx, { spec, commit, branch: "main" });

    expect(result.status).toBe("promoted");
    expect(result.error).toBeUndefined();
    expect(result.image?.uri).toMatch(/\/pass@sha256:[0-9a-f]{64}$/);
    expect(result.canary).toMatchObject({ result: "passed", summary: { SUCCEEDED: 3, FAILED: 0 } });

    const production = await ctx.backend.platform.listJobDefinitionRevisions("pass");
    expect(production).toHaveLength(1);
    expect(production[0]?.body.containerProperties?.["image"]).toBe(result.image?.uri);
    expect(production[0]?.tags).toMatchObject({ [TAG.commit]: commit, [TAG.canary]: "passed", [TAG.pipeline]: "pass" });
    const [candidate] = await ctx.backend.platform.listJobDefinitionRevisions("pass-canary");
    expect(candidate?.tags[TAG.canaryJob]).toBe(result.canary?.jobId);
    expect(candidate?.body).toEqual(production[0]?.body);

    const count = calls();
    expect(count("StartBuild")).toBe(1);
    expect(count("SubmitJob")).toBe(1);
    expect(count("RegisterJobDefinition")).toBe(2);
    expect(events.map((e) => e.type)).toContain("canary-progress");
    expect(result.stages.map((s) => s.stage)).toEqual(["build", "candidate", "canary", "promote"]);
  });

  it("fails when one child fails at minSuccessRate 1.0, and registers nothing under the production name", async () => {
    h.emulator.jobs.failChildren("fail", [1], { exitCode: 3, reason: "Essential container in task exited" });
    const spec = pipeline("fail");
    const { ctx } = h.engine();

    const result = await runRelease(ctx, { spec, commit: randomSha(), branch: "main" });

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("CANARY_FAILED");
    expect(result.production).toBeNull();
    expect(result.canary?.failedChildren).toEqual([
      expect.objectContaining({ jobId: `${result.canary?.jobId}:1`, exitCode: 3, statusReason: "Essential container in task exited" }),
    ]);
    expect(await ctx.backend.platform.listJobDefinitionRevisions("fail")).toEqual([]);
    const [candidate] = await ctx.backend.platform.listJobDefinitionRevisions("fail-canary");
    expect(candidate?.tags[TAG.canary]).toBe("failed");
  });

  it("tolerates a failed child when minSuccessRate allows it", async () => {
    h.emulator.jobs.failChildren("tolerate", [0], { exitCode: 1 });
    const spec = pipeline("tolerate", { minSuccessRate: 0.5 });
    const result = await runRelease(h.engine().ctx, { spec, commit: randomSha(), branch: "main" });

    expect(result.status).toBe("promoted");
    expect(result.canary?.summary).toMatchObject({ SUCCEEDED: 2, FAILED: 1 });
  });

  it("cancels children stuck in RUNNABLE and passes on the fallback queue", async () => {
    h.emulator.jobs.holdRunnable("stuck");
    const spec = pipeline("stuck", { fallbackJobQueue: "ondemand", runnableTimeoutMinutes: 5 });
    const { ctx, events } = h.engine();

    const result = await runRelease(ctx, { spec, commit: randomSha(), branch: "main" });

    expect(result.status).toBe("promoted");
    expect(result.canary).toMatchObject({ fallbackUsed: true, jobQueue: "ondemand", result: "passed" });
    const stuck = events.find((e) => e.type === "canary-stuck");
    expect(stuck).toMatchObject({ runnable: 3 });
    const [primary] = await ctx.backend.platform.findJobs("stuck", `batchship-${result.releaseId}`);
    expect(primary?.status).toBe("FAILED");
  });

  it("fails with Batch's reason when children are stuck in RUNNABLE and there is no fallback queue", async () => {
    h.emulator.jobs.holdRunnable("stuck-only");
    const spec = pipeline("stuck-only", { runnableTimeoutMinutes: 5 });
    const result = await runRelease(h.engine().ctx, { spec, commit: randomSha(), branch: "main" });

    expect(result.status).toBe("failed");
    expect(result.error?.message).toMatch(/RUNNABLE for 5 minutes/);
    expect(result.error?.message).toMatch(/MISCONFIGURATION/);
    expect(result.production).toBeNull();
  });

  it("stops at the canary in manual mode, and `promote` registers production exactly once", async () => {
    const spec = pipeline("manual", {}, "manual");
    const commit = randomSha();
    const { ctx } = h.engine();

    const released = await runRelease(ctx, { spec, commit, branch: "main" });
    expect(released.status).toBe("awaiting-promotion");
    expect(await ctx.backend.platform.listJobDefinitionRevisions("manual")).toEqual([]);
    expect((await pipelineStatus(ctx, spec)).awaitingPromotion).toHaveLength(1);

    const promoted = await promoteRelease(h.engine().ctx, spec, commit);
    expect(promoted.alreadyPromoted).toBe(false);
    expect(promoted.production.revision).toBe(1);
    const again = await promoteRelease(h.engine().ctx, spec, commit);
    expect(again.alreadyPromoted).toBe(true);
    expect(await ctx.backend.platform.listJobDefinitionRevisions("manual")).toHaveLength(1);
    expect((await pipelineStatus(ctx, spec)).awaitingPromotion).toHaveLength(0);
  });

  it("lists only releases newer than production as awaiting promotion", async () => {
    const spec = pipeline("overtaken", {}, "manual");
    const older = randomSha();
    const newer = randomSha();
    await runRelease(h.engine().ctx, { spec, commit: older, branch: "main" });
    await runRelease(h.engine().ctx, { spec, commit: newer, branch: "main" });
    const { ctx } = h.engine();
    expect((await pipelineStatus(ctx, spec)).awaitingPromotion.map((a) => a.commit)).toEqual([newer, older]);

    await promoteRelease(ctx, spec, newer);

    expect((await pipelineStatus(ctx, spec)).awaitingPromotion).toEqual([]);
  });

  it("refuses to promote a release whose canary failed", async () => {
    const spec = pipeline("fail");
    h.emulator.jobs.failChildren("fail", [0], { exitCode: 1 });
    const commit = randomSha();
    await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    await expect(promoteRelease(h.engine().ctx, spec, commit)).rejects.toMatchObject({ code: "NOT_PROMOTABLE" });
  });

  it("run twice for one commit builds, registers and submits once", async () => {
    const spec = pipeline("twice");
    const commit = randomSha();
    const calls = h.mark();

    const first = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    const second = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });

    expect(second).toMatchObject({
      status: "promoted",
      image: first.image,
      candidate: first.candidate,
      production: first.production,
      canary: { jobId: first.canary?.jobId },
    });
    const count = calls();
    expect(count("StartBuild")).toBe(1);
    expect(count("SubmitJob")).toBe(1);
    expect(count("RegisterJobDefinition")).toBe(2);
  });

  it("rolls back to the previous promoted image as a new revision", async () => {
    const spec = pipeline("rollback");
    const a = await runRelease(h.engine().ctx, { spec, commit: randomSha(), branch: "main" });
    const b = await runRelease(h.engine().ctx, { spec, commit: randomSha(), branch: "main" });
    expect(a.image?.digest).not.toBe(b.image?.digest);
    const { ctx } = h.engine();

    const rollback = await rollbackPipeline(ctx, spec);

    expect(rollback.from.revision).toBe(2);
    expect(rollback.to).toMatchObject({ revision: 3, image: a.image?.uri, releaseId: a.releaseId });
    const [newest] = await ctx.backend.platform.listJobDefinitionRevisions("rollback");
    expect(newest?.tags[TAG.rollbackOf]).toBe(b.production?.arn);
    await expect(rollbackPipeline(ctx, spec)).rejects.toMatchObject({ code: "NOTHING_TO_ROLL_BACK" });
  });

  it("after a rollback and a new release, rolls back to what ran before that release", async () => {
    const spec = pipeline("history");
    const run = async () => runRelease(h.engine().ctx, { spec, commit: randomSha(), branch: "main" });
    await run(); // A → history:1
    const b = await run(); // B → history:2
    await run(); // C → history:3
    const { ctx } = h.engine();
    expect((await rollbackPipeline(ctx, spec)).to.releaseId).toBe(b.releaseId); // → B as history:4
    const d = await run(); // D → history:5
    expect(d.production?.revision).toBe(5);

    const second = await rollbackPipeline(ctx, spec);

    expect(second.to).toMatchObject({ revision: 6, releaseId: b.releaseId, image: b.image?.uri });
  });

  it("gives every release its own candidate, even for an image an earlier release built", async () => {
    const spec = pipeline("same-image");
    const first = await runRelease(h.engine().ctx, { spec, commit: randomSha(), branch: "main" });
    const { ctx } = h.engine();
    const commit = randomSha();

    const { revision, reused } = await registerCandidate(ctx, {
      spec,
      releaseId: releaseIdFor("same-image", commit),
      commit,
      imageUri: first.image?.uri ?? "",
      digest: first.image?.digest ?? "",
    });

    expect(reused).toBe(false);
    expect(revision.revision).toBe(2);
    expect(revision.tags[TAG.canary]).toBeUndefined();
  });

  it("looks for its candidate before registering it, even for an image it built: another run of the release may have registered one", async () => {
    const spec = pipeline("followed");
    const commit = randomSha();
    const start = h.emulator.calls.length;
    const first = await runRelease(h.engine().ctx, { spec, commit, branch: "main", wait: false });
    const batchCalls = h.emulator.calls.slice(start).filter((c) => c.service === "batch").map((c) => c.operation);
    // The run started the build, and still looked first.
    expect(first.build).not.toBeNull();
    expect(batchCalls.indexOf("DescribeJobDefinitions")).toBeGreaterThanOrEqual(0);
    expect(batchCalls.indexOf("DescribeJobDefinitions")).toBeLessThan(batchCalls.indexOf("RegisterJobDefinition"));
    const { ctx } = h.engine();
    const calls = h.mark();
    const input = { spec, releaseId: releaseIdFor("followed", commit), commit, imageUri: first.image?.uri ?? "", digest: first.image?.digest ?? "" };

    // Its image is new to it (a build it followed, or started as the other run followed it): it
    // looks before it registers.
    const followed = await registerCandidate(ctx, { ...input, imageIsNew: true });

    expect(followed).toMatchObject({ reused: true, revision: { arn: first.candidate?.arn } });
    expect(calls()("RegisterJobDefinition")).toBe(0);
    expect(await ctx.backend.platform.listJobDefinitionRevisions("followed-canary")).toHaveLength(1);
  });

  it("a canary stopped at its deadline stays failed when the release runs again", async () => {
    h.emulator.jobs.runFor("late-again", 1000);
    h.emulator.jobs.failChildren("late-again", [], {});
    const spec = pipeline("late-again", { timeoutMinutes: 2, runnableTimeoutMinutes: 1, minSuccessRate: 0 });
    const commit = randomSha();
    const calls = h.mark();

    const first = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    const again = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });

    expect(first.status).toBe("failed");
    expect(again.status).toBe("failed");
    expect(again.canary?.jobId).toBe(first.canary?.jobId);
    expect(calls()("SubmitJob")).toBe(1);
    expect(await h.engine().ctx.backend.platform.listJobDefinitionRevisions("late-again")).toEqual([]);
  });

  it("reports the failed build phase and registers nothing", async () => {
    h.emulator.builds.failNext({ phase: "BUILD", message: "docker build exited 1" });
    const spec = pipeline("build");
    const { ctx } = h.engine();

    const result = await runRelease(ctx, { spec, commit: randomSha(), branch: "main" });

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("BUILD_FAILED");
    expect(result.error?.message).toMatch(/phase BUILD.*docker build exited 1/);
    expect(result.candidate).toBeNull();
    expect(await ctx.backend.platform.listJobDefinitionRevisions("build-canary")).toEqual([]);
  });

  it("builds again after a failed build when retried, with a new idempotency token", async () => {
    h.emulator.builds.failNext({ phase: "BUILD", message: "network flake" });
    const spec = pipeline("rebuild");
    const commit = randomSha();
    const calls = h.mark();

    const failed = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    const retried = await runRelease(h.engine().ctx, { spec, commit, branch: "main", retry: true });

    expect(failed.error?.code).toBe("BUILD_FAILED");
    expect(retried.status).toBe("promoted");
    expect(calls()("StartBuild")).toBe(2);
  });

  it("reports build phases and canary counts as they change", async () => {
    h.emulator.builds.slow(4);
    h.emulator.jobs.runFor("slow", 2);
    const { ctx, events } = h.engine();

    const result = await runRelease(ctx, { spec: pipeline("slow"), commit: randomSha(), branch: "main" });

    expect(result.status).toBe("promoted");
    const phases = events.flatMap((e) => (e.type === "build-phase" ? [e.phase] : []));
    expect(phases.length).toBeGreaterThanOrEqual(3);
    const progress = events.flatMap((e) => (e.type === "canary-progress" ? [e.counts] : []));
    expect(progress.some((c) => c.RUNNING === 3)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ SUCCEEDED: 3 });
  });

  it("keeps reporting a long canary whose counts do not change", async () => {
    h.emulator.jobs.runFor("heartbeat", 60); // 60 polls of 15 s: 15 minutes RUNNING
    const { ctx, events } = h.engine();

    const result = await runRelease(ctx, { spec: pipeline("heartbeat"), commit: randomSha(), branch: "main" });

    expect(result.status).toBe("promoted");
    const running = events.flatMap((e) => (e.type === "canary-progress" && e.counts.RUNNING === 3 ? [e.elapsedMs] : []));
    expect(running.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...running)).toBeGreaterThanOrEqual(10 * 60_000);
  });

  it("fails a canary that runs past timeoutMinutes and stops its job", async () => {
    h.emulator.jobs.runFor("late", 1000);
    const calls = h.mark();
    const spec = pipeline("late", { timeoutMinutes: 2, runnableTimeoutMinutes: 1 });

    const result = await runRelease(h.engine().ctx, { spec, commit: randomSha(), branch: "main" });

    expect(result.status).toBe("failed");
    expect(result.error?.message).toMatch(/timeoutMinutes \(2\)/);
    expect(calls()("TerminateJob")).toBe(1);
  });
});
