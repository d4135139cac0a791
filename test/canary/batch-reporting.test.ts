/**
 * The canary's verdict against Batch as it really reports array jobs: a parent statusSummary
 * that lags its children or misses some, and a stop that reaches the children (and so the
 * parent) only later, without the reason batchship gave.
 */
import { BatchClient, UntagResourceCommand } from "@aws-sdk/client-batch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineContext } from "../../src/release/context.js";
import { runRelease } from "../../src/release/run-release.js";
import { recordedStop } from "../../src/canary/stop-reasons.js";
import { TAG } from "../../src/release/tags.js";
import { testClientConfig } from "../emulator/index.js";
import { makeSpec } from "../support/spec.js";
import { randomSha, startEngineHarness, type EngineHarness } from "../release/harness.js";

const QUEUES = ["lagging", "undercount", "slow-stop", "slow-stop-ondemand", "slow-stop-late"];

let h: EngineHarness;
beforeAll(async () => {
  h = await startEngineHarness(QUEUES);
});
afterAll(async () => h?.close());

function pipeline(name: string, canary: Record<string, unknown> = {}) {
  return makeSpec({ name, image: { repository: name }, jobDefinition: { name }, canary: { jobQueue: name, ...canary } });
}

describe("a parent statusSummary that has not settled", () => {
  it("is not judged: a canary whose children all succeeded passes although the ended parent still shows them RUNNING", async () => {
    // Children run for one poll, then succeed; the summary shows them as they were two polls earlier.
    h.emulator.jobs.runFor("lagging", 1);
    h.emulator.jobs.lagSummary("lagging", 2);
    const calls = h.mark();

    const result = await runRelease(h.engine().ctx, { spec: pipeline("lagging"), commit: randomSha(), branch: "main" });

    expect(result.error).toBeUndefined();
    expect(result.status).toBe("promoted");
    expect(result.canary).toMatchObject({ result: "passed", summary: { SUCCEEDED: 3, RUNNING: 0, FAILED: 0 } });
    // The parent ended on the second poll; its counts caught up two polls later.
    expect(calls()("DescribeJobs")).toBeGreaterThanOrEqual(4);
  });

  it("is not judged while its counts do not add up to the array size", async () => {
    h.emulator.jobs.undercountSummary("undercount", 3);
    const { ctx, events } = h.engine();

    const result = await runRelease(ctx, { spec: pipeline("undercount"), commit: randomSha(), branch: "main" });

    expect(result.status).toBe("promoted");
    expect(result.canary).toMatchObject({ result: "passed", summary: { SUCCEEDED: 3 } });
    // Progress shows only counts that add up.
    const shown = events.flatMap((e) => (e.type === "canary-progress" ? [e.counts] : []));
    expect(shown.length).toBeGreaterThan(0);
    for (const counts of shown) expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(3);
  });
});

describe("a stop that Batch carries out asynchronously", () => {
  it("a run resumed after stopping a stuck primary moves on to the fallback queue, by what batchship recorded", async () => {
    h.emulator.jobs.holdRunnable("slow-stop");
    h.emulator.jobs.stopSlowly("slow-stop", 2);
    const spec = pipeline("slow-stop", { fallbackJobQueue: "slow-stop-ondemand", runnableTimeoutMinutes: 5 });
    const commit = randomSha();

    // The first run stops the stuck primary, then cannot submit the fallback (it dies there).
    const first = h.engine();
    const crashing: EngineContext = {
      ...first.ctx,
      observe(event) {
        first.ctx.observe(event);
        if (event.type === "canary-stuck") h.emulator.faults.throttle("SubmitJob", 100, "500");
      },
    };
    const interrupted = await runRelease(crashing, { spec, commit, branch: "main" });
    h.emulator.faults.clear();
    expect(interrupted.status).toBe("failed");
    const [primary] = await first.ctx.backend.platform.findJobs("slow-stop", `batchship-${interrupted.releaseId}`);
    const [candidate] = await first.ctx.backend.platform.listJobDefinitionRevisions("slow-stop-canary");
    expect(recordedStop(candidate?.tags ?? {}, primary?.jobId ?? "")).toBe("stuck");

    const calls = h.mark();
    const resumed = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });

    expect(resumed.error).toBeUndefined();
    expect(resumed.status).toBe("promoted");
    expect(resumed.canary).toMatchObject({ result: "passed", fallbackUsed: true, jobQueue: "slow-stop-ondemand" });
    expect(calls()("SubmitJob")).toBe(1);
    // The primary has ended by now, without batchship's reason on the parent.
    const ended = await h.engine().ctx.backend.platform.describeJob(primary?.jobId ?? "");
    expect(ended).toMatchObject({ status: "FAILED" });
    expect(ended?.statusReason).toBeUndefined();
  });

  it("a run resumed after stopping a canary at its deadline reports the deadline, though the parent ended without that reason", async () => {
    h.emulator.jobs.runFor("slow-stop-late", 1000);
    h.emulator.jobs.stopSlowly("slow-stop-late", 2);
    const spec = pipeline("slow-stop-late", { timeoutMinutes: 2, runnableTimeoutMinutes: 1 });
    const commit = randomSha();
    const first = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    expect(first.error?.message).toMatch(/timeoutMinutes \(2\)/);
    // The run died after the stop, before it wrote the verdict.
    const [candidate] = await h.engine().ctx.backend.platform.listJobDefinitionRevisions("slow-stop-late-canary");
    expect(recordedStop(candidate?.tags ?? {}, first.canary?.jobId ?? "")).toBe("deadline");
    const batch = new BatchClient(testClientConfig(h.emulator));
    await batch.send(new UntagResourceCommand({ resourceArn: candidate?.arn, tagKeys: [TAG.canary, TAG.canaryJob] }));
    batch.destroy();
    const calls = h.mark();

    const again = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });

    expect(again.status).toBe("failed");
    expect(again.canary?.jobId).toBe(first.canary?.jobId);
    expect(again.error?.message).toMatch(/did not finish within canary.timeoutMinutes \(2\)/);
    expect(calls()("SubmitJob")).toBe(0);
    const [recorded] = await h.engine().ctx.backend.platform.listJobDefinitionRevisions("slow-stop-late-canary");
    expect(recorded?.tags[TAG.canary]).toBe("failed");
  });
});
