import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsBackend } from "../../src/aws/index.js";
import { followCanary, type FollowEnd } from "../../src/canary/follow.js";
import { isBatchshipError } from "../../src/errors.js";
import { createEngineContext } from "../../src/release/context.js";
import type { ReleaseEvent } from "../../src/release/events.js";
import { runRelease } from "../../src/release/run-release.js";
import { realSleep, type JobPlatform } from "../../src/release/ports.js";
import { onPollBeat } from "../../src/service/poll-beat.js";
import { createFixtures, startEmulator, testClientConfig, type Emulator } from "../emulator/index.js";
import { makeSpec } from "../support/spec.js";
import { virtualTime } from "../support/virtual-time.js";

const QUEUES = ["many", "held", "ends", "joins", "storm"];
let emu: Emulator;
let backend: ReturnType<typeof createAwsBackend>;
let definitionArn: string;

beforeAll(async () => {
  emu = await startEmulator();
  await createFixtures(emu, { jobQueues: QUEUES, codebuildProject: "follow-build" });
  backend = createAwsBackend(testClientConfig(emu), { batchWindowMs: 20 });
  definitionArn = (
    await backend.platform.registerJobDefinition(
      "follow",
      { type: "container", platformCapabilities: ["EC2"], containerProperties: { image: "busybox", command: ["true"], vcpus: 1, memory: 128 } },
      {},
    )
  ).arn;
});
afterAll(async () => emu?.close());

const canary = makeSpec({ canary: { jobQueue: "many", arraySize: 1, runnableTimeoutMinutes: 10, timeoutMinutes: 60 } }).canary;

async function submit(platform: JobPlatform, queue: string, name: string): Promise<string> {
  const { jobId } = await platform.submitJob({ jobName: name, jobQueue: queue, jobDefinitionArn: definitionArn, arraySize: 1, parameters: {}, environment: {}, tags: {} });
  return jobId;
}

/** The DescribeJobs calls that reached AWS since `from`, as the ids each asked for. */
function describeCalls(from: number): string[][] {
  return emu.calls.slice(from).filter((c) => c.operation === "DescribeJobs" && c.forwarded).map((c) => c.input.jobs as string[]);
}

describe("one DescribeJobs for many followed canaries", () => {
  it("follows 150 canaries with at most one call per 100 jobs per poll, each follower getting its own job", async () => {
    emu.jobs.runFor("many", 3);
    const ids: string[] = [];
    for (let i = 0; i < 150; i += 15) {
      ids.push(...(await Promise.all(Array.from({ length: 15 }, (_, j) => submit(backend.platform, "many", `many-${i + j}`)))));
    }
    const mark = emu.calls.length;

    // Each canary is followed by its own engine, as each release in the service is.
    const ends: FollowEnd[] = await Promise.all(
      ids.map(async (id) => {
        const time = virtualTime();
        const ctx = createEngineContext(backend, { clock: time.clock, sleep: time.sleep, polling: { canaryIntervalMs: 15_000 } });
        const first = await ctx.backend.platform.describeJob(id);
        if (first === undefined) throw new Error(`job ${id} not found`);
        return followCanary(ctx, first, canary, time.clock.now() + 3_600_000);
      }),
    );

    expect(ends.map((end) => [end.kind, end.job.jobId, end.job.status])).toEqual(ids.map((id) => ["finished", id, "SUCCEEDED"]));
    const calls = describeCalls(mark);
    // Four polls each (three RUNNING, then SUCCEEDED): 600 calls one by one.
    expect(calls.flat()).toHaveLength(600);
    expect(calls.every((jobs) => jobs.length <= 100)).toBe(true);
    expect(calls.length).toBeLessThanOrEqual(8);
  });

  it("keeps the batch right as canaries end, join mid-window and disappear", async () => {
    const release = emu.jobs.holdRunning("held");
    emu.jobs.runFor("ends", 2);
    emu.jobs.runFor("joins", 2);
    const held = await submit(backend.platform, "held", "held");
    const ends = await submit(backend.platform, "ends", "ends");
    // A canary the API does not know (Batch forgets finished jobs after a few days).
    const gone = "0b6c5f4e-1111-4222-8333-944445555666";
    const mark = emu.calls.length;

    // Followers on the service's beat, in real time: a 300 ms poll interval.
    const follow = async (id: string): Promise<FollowEnd> => {
      const ctx = createEngineContext(backend, { sleep: onPollBeat(realSleep, Date.now), polling: { canaryIntervalMs: 300 } });
      const first = await ctx.backend.platform.describeJob(id);
      if (first === undefined) throw new Error(`job ${id} not found`);
      return followCanary(ctx, first, canary, Date.now() + 60_000);
    };
    const heldFollow = follow(held);
    const goneFollow = (async () => {
      const ctx = createEngineContext(backend, { sleep: onPollBeat(realSleep, Date.now), polling: { canaryIntervalMs: 300 } });
      return followCanary(ctx, { jobId: gone, jobName: "gone", jobQueue: "held", status: "RUNNING" }, canary, Date.now() + 60_000);
    })();
    const goneError = goneFollow.then(() => undefined, (error: unknown) => error);
    const endsEnd = await follow(ends);
    expect(endsEnd).toMatchObject({ kind: "finished", job: { jobId: ends, status: "SUCCEEDED" } });
    // The unknown job's follower is told so; the others' answers are not disturbed by it.
    expect(String(await goneError)).toMatch(/no longer known/);

    // A canary that starts after the first one ended joins the held one's calls.
    const joined = await submit(backend.platform, "joins", "joins");
    const joinedAt = emu.calls.length;
    const joinedEnd = await follow(joined);
    expect(joinedEnd).toMatchObject({ kind: "finished", job: { jobId: joined, status: "SUCCEEDED" } });
    release();
    expect(await heldFollow).toMatchObject({ kind: "finished", job: { jobId: held, status: "SUCCEEDED" } });

    const calls = describeCalls(mark);
    // Once it ended, the first canary is never asked for again.
    const lastWithEnds = calls.findLastIndex((jobs) => jobs.includes(ends));
    expect(calls.slice(lastWithEnds + 1).some((jobs) => jobs.includes(held))).toBe(true);
    // Every poll of the joined canary (after its first look) shares the held canary's call.
    const joinedPolls = describeCalls(joinedAt).filter((jobs) => jobs.includes(joined));
    expect(joinedPolls.length).toBeGreaterThanOrEqual(3);
    expect(joinedPolls.slice(1).every((jobs) => jobs.includes(held))).toBe(true);
    // No call asked for a job twice.
    expect(calls.every((jobs) => new Set(jobs).size === jobs.length)).toBe(true);
  });

  it("gives every caller of a refused call the same error, which says it was throttled", async () => {
    const once = createAwsBackend(testClientConfig(emu, { maxAttempts: 1 }), { batchWindowMs: 20 });
    emu.jobs.runFor("many", 0);
    const [a, b] = [await submit(once.platform, "many", "refused-a"), await submit(once.platform, "many", "refused-b")];
    emu.faults.storm("DescribeJobs", { share: 1, calls: 1 });
    const mark = emu.calls.length;

    const results = await Promise.allSettled([once.platform.describeJob(a), once.platform.describeJob(b)]);

    expect(emu.calls.slice(mark).filter((c) => c.operation === "DescribeJobs")).toHaveLength(1);
    const [first, second] = results;
    expect(first?.status).toBe("rejected");
    expect(second?.status).toBe("rejected");
    const error = (first as PromiseRejectedResult).reason;
    expect((second as PromiseRejectedResult).reason).toBe(error);
    expect(isBatchshipError(error) && error.throttled && error.retryable).toBe(true);
    expect(error.message).toMatch(/^Could not describe 2 jobs/);
    // The next call is not refused and answers both.
    const [jobA, jobB] = await Promise.all([once.platform.describeJob(a), once.platform.describeJob(b)]);
    expect([jobA?.jobId, jobB?.jobId]).toEqual([a, b]);
  });

  it("refuses more than 100 ids in one DescribeJobs, as AWS does", async () => {
    const ids = Array.from({ length: 101 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`);
    const once = createAwsBackend(testClientConfig(emu, { maxAttempts: 1 }));
    await expect(once.clients.batch.send(new (await import("@aws-sdk/client-batch")).DescribeJobsCommand({ jobs: ids }))).rejects.toMatchObject({
      name: "ClientException",
    });
  });
});

describe("a throttling storm over many releases", () => {
  it("slows every release and fails none, each built, submitted and promoted once", async () => {
    // One attempt per SDK call: the engine itself sees every refusal.
    const once = createAwsBackend(testClientConfig(emu, { maxAttempts: 1 }), { batchWindowMs: 20 });
    const names = ["storm-a", "storm-b", "storm-c", "storm-d"];
    const spec = (name: string) =>
      makeSpec({ name, image: { repository: name }, build: { project: "follow-build" }, jobDefinition: { name }, canary: { jobQueue: "storm", arraySize: 2 } });
    emu.jobs.runFor("storm", 2);
    // One virtual clock for the four releases, and the storm measured on it: like AWS's rate
    // limit, it lets a caller through once enough time has passed, however fast the machine
    // runs the retries. A storm counted in calls would not: one release whose retries came
    // first could take every refusal and spend its whole throttling budget.
    const time = virtualTime();
    const now = time.clock.now;
    // Every call refused for 3 minutes, then half of them until minute 6. A call refused while
    // the storm lasts has waited at most 6 minutes, and the canary storms below refuse 8 calls
    // each at most: no call can spend its 15 minutes (THROTTLE_BUDGET_MS), so no release may fail.
    emu.faults.storm("*", { share: 1, forMs: 3 * 60_000, now });
    emu.faults.storm("*", { share: 0.5, forMs: 6 * 60_000, now });
    // And then every other call that creates or follows a canary.
    for (const operation of ["RegisterJobDefinition", "SubmitJob", "DescribeJobs"]) emu.faults.storm(operation, { share: 0.5, calls: 16 });
    const mark = emu.calls.length;

    const runs = await Promise.all(
      names.map(async (name) => {
        const events: ReleaseEvent[] = [];
        const ctx = createEngineContext(once, { clock: time.clock, sleep: time.sleep, observe: (e) => events.push(e), polling: { retryDelayMs: 1_000 } });
        const result = await runRelease(ctx, { spec: spec(name), commit: `${name}0`.padEnd(40, "0").replace(/[^0-9a-f]/g, "0"), branch: "main" });
        return { result, events };
      }),
    );

    const refused = emu.calls.slice(mark).filter((c) => c.faulted);
    // The four first calls sat out the 3 minutes together; pauses of 1, 2, 4, 8 and 16 s add up
    // to 31 s, so one of them at least was refused more than the engine's 5 attempts for other
    // failures, and waited on.
    const refusedLookups = names.map((name) => refused.filter((c) => c.operation === "DescribeRepositories" && c.input?.repositoryNames?.[0] === name).length);
    expect(Math.max(...refusedLookups)).toBeGreaterThan(5);
    // Batch answered as it does when throttling: HTTP 429.
    expect(refused.some((c) => c.service === "batch" && c.status === 429)).toBe(true);
    for (const { result, events } of runs) {
      expect(result.error).toBeUndefined();
      expect(result.status).toBe("promoted");
      expect(events.some((e) => e.type === "warning" && /throttled; waiting it out/.test(e.message))).toBe(true);
    }
    const forwarded = (operation: string) => emu.calls.slice(mark).filter((c) => c.operation === operation && c.forwarded).length;
    expect(forwarded("StartBuild")).toBe(names.length);
    expect(forwarded("SubmitJob")).toBe(names.length);
    // A candidate and a production revision each.
    expect(forwarded("RegisterJobDefinition")).toBe(2 * names.length);
  });
});
