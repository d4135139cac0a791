import { describe, expect, it } from "vitest";
import { followCanary } from "../../src/canary/follow.js";
import { emptyCounts } from "../../src/canary/counts.js";
import { createEngineContext } from "../../src/release/context.js";
import type { Backend, JobState, JobStatus } from "../../src/release/ports.js";
import { makeSpec } from "../support/spec.js";
import { virtualTime } from "../support/virtual-time.js";

const unused = () => {
  throw new Error("not used by followCanary");
};

/** A job platform that answers DescribeJobs from a script, one state per poll. */
function scriptedBackend(states: JobState[]): Backend {
  let poll = 0;
  return {
    builder: { findBuild: unused, startBuild: unused, getBuild: unused },
    registry: { ensureRepository: unused, findDigest: unused },
    platform: {
      listJobDefinitionRevisions: unused,
      newestJobDefinitionRevisions: unused,
      registerJobDefinition: unused,
      tagJobDefinition: unused,
      deregisterJobDefinition: unused,
      findJobs: unused,
      submitJob: unused,
      listChildren: unused,
      stopJob: unused,
      describeJob: async () => states[Math.min(++poll, states.length - 1)],
    },
  };
}

function single(status: JobStatus, extra: Partial<JobState> = {}): JobState {
  return { jobId: "job-1", jobName: "batchship-etl-abc", jobQueue: "q", status, ...extra };
}

describe("followCanary and RUNNABLE", () => {
  const canary = makeSpec({ canary: { jobQueue: "q", arraySize: 1, runnableTimeoutMinutes: 10, timeoutMinutes: 120 } }).canary;

  it("does not call a job stuck when it went back to RUNNABLE for a retry long after submission", async () => {
    const time = virtualTime();
    const createdAt = time.clock.now() - 60 * 60_000; // submitted an hour ago
    const running = single("RUNNING", { createdAt, startedAt: createdAt + 60_000 });
    const retrying = single("RUNNABLE", { createdAt, startedAt: createdAt + 60_000 });
    // 15 s polls: RUNNING, then RUNNABLE for 5 minutes (a retry waiting for an instance), then done.
    const states = [running, ...Array.from({ length: 20 }, () => retrying), single("SUCCEEDED", { createdAt })];
    const ctx = createEngineContext(scriptedBackend(states), { clock: time.clock, sleep: time.sleep });

    const end = await followCanary(ctx, running, canary, createdAt + 120 * 60_000);

    expect(end.kind).toBe("finished");
  });

  it("calls a job stuck once nothing has run for runnableTimeoutMinutes, counting from submission on resume", async () => {
    const time = virtualTime();
    const createdAt = time.clock.now() - 9 * 60_000; // waiting for 9 minutes already
    const waiting = single("RUNNABLE", { createdAt, statusReason: "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT" });
    const ctx = createEngineContext(scriptedBackend([waiting]), { clock: time.clock, sleep: time.sleep });

    const end = await followCanary(ctx, waiting, canary, createdAt + 120 * 60_000);

    expect(end.kind).toBe("stuck");
    // One more minute (four 15 s polls) completes the ten, not ten more.
    expect(time.elapsedMs()).toBe(60_000);
  });

  it("treats children waiting while others run as queueing, not stuck", async () => {
    const time = virtualTime();
    const counts = { ...emptyCounts(), RUNNING: 1, RUNNABLE: 9 };
    const busy: JobState = { ...single("PENDING"), arraySize: 10, childCounts: counts, createdAt: time.clock.now() };
    const done: JobState = { ...busy, status: "SUCCEEDED", childCounts: { ...emptyCounts(), SUCCEEDED: 10 } };
    const states = [busy, ...Array.from({ length: 80 }, () => busy), done]; // 20 minutes of queueing
    const ctx = createEngineContext(scriptedBackend(states), { clock: time.clock, sleep: time.sleep });

    const end = await followCanary(ctx, busy, canary, time.clock.now() + 120 * 60_000);

    expect(end.kind).toBe("finished");
  });
});

describe("followCanary and a statusSummary that has not settled", () => {
  const canary = makeSpec({ canary: { jobQueue: "q", arraySize: 3, runnableTimeoutMinutes: 10, timeoutMinutes: 30 } }).canary;
  const counts = (c: Partial<Record<JobStatus, number>>) => ({ ...emptyCounts(), ...c });
  const parent = (status: JobStatus, c: Partial<Record<JobStatus, number>>, extra: Partial<JobState> = {}): JobState => ({
    ...single(status),
    arraySize: 3,
    childCounts: counts(c),
    ...extra,
  });

  it("polls an ended parent again until its counts are as new as its end, and judges those", async () => {
    const time = virtualTime();
    const ended = time.clock.now() + 15_000;
    const running = parent("RUNNING", { RUNNING: 3 }, { createdAt: time.clock.now() });
    const stale = parent("SUCCEEDED", { RUNNING: 3 }, { stoppedAt: ended, childCountsAt: ended - 5_000 });
    const settled = parent("SUCCEEDED", { SUCCEEDED: 3 }, { stoppedAt: ended, childCountsAt: ended });
    const ctx = createEngineContext(scriptedBackend([running, stale, stale, settled]), { clock: time.clock, sleep: time.sleep });

    const end = await followCanary(ctx, running, canary, time.clock.now() + 30 * 60_000);

    expect(end).toMatchObject({ kind: "finished", job: { childCounts: { SUCCEEDED: 3 } } });
    expect(time.elapsedMs()).toBe(3 * 15_000);
  });

  it("judges nothing on counts that do not add up, down to the deadline", async () => {
    const time = virtualTime();
    const short = parent("FAILED", { SUCCEEDED: 1, FAILED: 1 }, { createdAt: time.clock.now() });
    const ctx = createEngineContext(scriptedBackend([short]), { clock: time.clock, sleep: time.sleep });

    const end = await followCanary(ctx, short, canary, time.clock.now() + 60_000);

    expect(end.kind).toBe("deadline");
  });
});
