import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { normalizeJobDefinitionBody } from "../../src/aws/batch-mapping.js";
import type { JobDefinitionBody, JobState } from "../../src/release/ports.js";
import { eventually, QUEUE, startAwsTestEnv, type AwsTestEnv } from "./aws-test-env.js";

let env: AwsTestEnv;
beforeAll(async () => {
  env = await startAwsTestEnv();
});
afterAll(async () => {
  await env?.close();
});

const IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/etl@sha256:" + "a".repeat(64);

function body(command: string): JobDefinitionBody {
  return {
    type: "container",
    platformCapabilities: ["EC2"],
    containerProperties: {
      image: IMAGE,
      command: ["python", command],
      resourceRequirements: [
        { type: "VCPU", value: "1" },
        { type: "MEMORY", value: "512" },
      ],
    },
    retryStrategy: { attempts: 2 },
    timeout: { attemptDurationSeconds: 600 },
    parameters: { date: "today" },
  };
}

async function registerDefinition(name: string, command: string): Promise<string> {
  return (await env.backend.platform.registerJobDefinition(name, body(command), {})).arn;
}

/** Requests that reached the emulator, faulted ones included: one per SDK attempt. */
function attempts(operation: string): number {
  return env.emu.calls.filter((call) => call.operation === operation).length;
}

async function finished(jobId: string): Promise<JobState> {
  return eventually(async () => {
    const job = await env.backend.platform.describeJob(jobId);
    return job?.status === "SUCCEEDED" || job?.status === "FAILED" ? job : undefined;
  }, `job ${jobId} to finish`);
}

describe("job definitions", () => {
  it("registers, lists newest first and reads back an equal body", async () => {
    const { platform } = env.backend;
    const first = await platform.registerJobDefinition("roundtrip-canary", body("one.py"), { "batchship:release": "r1" });
    const second = await platform.registerJobDefinition("roundtrip-canary", body("two.py"), { "batchship:release": "r2" });
    expect(second.revision).toBe(first.revision + 1);

    const revisions = await platform.listJobDefinitionRevisions("roundtrip-canary");
    expect(revisions.map((r) => r.revision)).toEqual([second.revision, first.revision]);
    expect(revisions[0]).toMatchObject({ name: "roundtrip-canary", arn: second.arn, tags: { "batchship:release": "r2" } });
    expect(revisions[0]?.body).toEqual(body("two.py"));
    expect(revisions[1]?.body).toEqual(body("one.py"));
  });

  it("drops empty fields the same way on both sides", async () => {
    const sparse: JobDefinitionBody = {
      type: "container",
      platformCapabilities: ["EC2"],
      containerProperties: { image: IMAGE, environment: [], command: ["run"], vcpus: 1, memory: 256 },
      timeout: {},
      parameters: {},
      propagateTags: false,
    };
    await env.backend.platform.registerJobDefinition("sparse-canary", sparse, {});
    const [revision] = await env.backend.platform.listJobDefinitionRevisions("sparse-canary");
    expect(revision?.body).toEqual(normalizeJobDefinitionBody(sparse));
    expect(revision?.body).toEqual({
      type: "container",
      platformCapabilities: ["EC2"],
      containerProperties: { image: IMAGE, command: ["run"], vcpus: 1, memory: 256 },
    });
  });

  it("adds tags to a registered revision", async () => {
    const { platform } = env.backend;
    const { arn } = await platform.registerJobDefinition("tagged-canary", body("x.py"), { "batchship:commit": "abc" });
    await platform.tagJobDefinition(arn, { "batchship:promoted": "true" });
    const [revision] = await platform.listJobDefinitionRevisions("tagged-canary");
    expect(revision?.tags).toEqual({ "batchship:commit": "abc", "batchship:promoted": "true" });
  });

  it("returns no revisions for an unknown name", async () => {
    expect(await env.backend.platform.listJobDefinitionRevisions("never-registered")).toEqual([]);
  });

  it("registers without SDK retries, and retries reads", async () => {
    const { emu, backend } = env;
    const registered = attempts("RegisterJobDefinition");
    emu.faults.throttle("RegisterJobDefinition", 1);
    await expect(backend.platform.registerJobDefinition("once-canary", body("x.py"), {})).rejects.toMatchObject({
      code: "AWS",
      retryable: true,
      message: expect.stringMatching(/^Could not register job definition once-canary: /),
    });
    expect(attempts("RegisterJobDefinition")).toBe(registered + 1);
    const before = attempts("DescribeJobDefinitions");
    emu.faults.throttle("DescribeJobDefinitions", 1);
    expect(await backend.platform.listJobDefinitionRevisions("once-canary")).toEqual([]);
    expect(attempts("DescribeJobDefinitions")).toBe(before + 2);
  });
});

describe("jobs", () => {
  let definitionArn: string;
  beforeAll(async () => {
    definitionArn = await registerDefinition("jobs-canary", "job.py");
  });

  it("submits an array job and describes it with child counts", async () => {
    const { platform } = env.backend;
    const { jobId } = await platform.submitJob({
      jobName: "array-r1",
      jobQueue: QUEUE,
      jobDefinitionArn: definitionArn,
      arraySize: 3,
      parameters: { date: "tomorrow" },
      environment: { BATCHSHIP_CANARY: "1" },
      tags: { "batchship:release": "r1" },
    });
    const job = await finished(jobId);
    expect(job).toMatchObject({ jobId, jobName: "array-r1", status: "SUCCEEDED", arraySize: 3 });
    expect(job.jobQueue).toMatch(/canary$/);
    expect(job.childCounts).toEqual({ SUBMITTED: 0, PENDING: 0, RUNNABLE: 0, STARTING: 0, RUNNING: 0, SUCCEEDED: 3, FAILED: 0 });
    expect(job.tags).toEqual({ "batchship:release": "r1" });
    expect(typeof job.createdAt).toBe("number");

    const submitted = env.emu.calls.filter((call) => call.operation === "SubmitJob").at(-1);
    expect(submitted?.input).toMatchObject({
      arrayProperties: { size: 3 },
      parameters: { date: "tomorrow" },
      containerOverrides: { environment: [{ name: "BATCHSHIP_CANARY", value: "1" }] },
    });
  });

  it("submits a single job when arraySize is 1", async () => {
    const { jobId } = await env.backend.platform.submitJob({
      jobName: "single-r1",
      jobQueue: QUEUE,
      jobDefinitionArn: definitionArn,
      arraySize: 1,
      parameters: {},
      environment: {},
      tags: {},
    });
    const job = await finished(jobId);
    expect(job.arraySize).toBeUndefined();
    expect(job.childCounts).toBeUndefined();
  });

  it("describes an unknown job as undefined", async () => {
    expect(await env.backend.platform.describeJob("00000000-0000-0000-0000-000000000000")).toBeUndefined();
  });

  it("finds jobs by exact name, newest first, without array children", async () => {
    const { platform } = env.backend;
    const submit = (jobName: string) =>
      platform.submitJob({ jobName, jobQueue: QUEUE, jobDefinitionArn: definitionArn, arraySize: 2, parameters: {}, environment: {}, tags: { n: jobName } });
    const older = await submit("find-me");
    await new Promise((resolve) => setTimeout(resolve, 20));
    const newer = await submit("find-me");
    await submit("find-me-not");

    const found = await platform.findJobs(QUEUE, "find-me");
    expect(found.map((job) => job.jobId)).toEqual([newer.jobId, older.jobId]);
    expect(found[0]?.tags).toEqual({ n: "find-me" });
    expect(await platform.findJobs(QUEUE, "nobody-has-this-name")).toEqual([]);
  });

  it("lists children with their status, limited", async () => {
    const { platform } = env.backend;
    const { jobId } = await platform.submitJob({
      jobName: "children-r1",
      jobQueue: QUEUE,
      jobDefinitionArn: definitionArn,
      arraySize: 4,
      parameters: {},
      environment: {},
      tags: {},
    });
    await finished(jobId);
    const all = await platform.listChildren(jobId);
    expect(all.map((child) => child.jobId).sort()).toEqual([0, 1, 2, 3].map((i) => `${jobId}:${i}`));
    expect(all.every((child) => child.status === "SUCCEEDED")).toBe(true);
    const before = env.emu.calls.length;
    expect(await platform.listChildren(jobId, { status: "SUCCEEDED", limit: 2 })).toHaveLength(2);
    const listed = env.emu.calls.slice(before).filter((call) => call.operation === "ListJobs");
    expect(listed.map((call) => call.input.maxResults)).toEqual([2]);
    expect(await platform.listChildren(jobId, { status: "FAILED" })).toEqual([]);
  });

  it("explains failed children with exit code and reason", async () => {
    const { emu, backend } = env;
    emu.jobs.failChildren(QUEUE, [1], { exitCode: 3, reason: "bad input row" });
    try {
      const { jobId } = await backend.platform.submitJob({
        jobName: "failing-r1",
        jobQueue: QUEUE,
        jobDefinitionArn: definitionArn,
        arraySize: 3,
        parameters: {},
        environment: {},
        tags: {},
      });
      const job = await eventually(async () => {
        const state = await backend.platform.describeJob(jobId);
        const counts = state?.childCounts;
        return counts && counts.SUCCEEDED + counts.FAILED === 3 ? state : undefined;
      }, "children to finish");
      expect(job.childCounts?.FAILED).toBe(1);
      const failed = await backend.platform.listChildren(jobId, { status: "FAILED" });
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ jobId: `${jobId}:1`, status: "FAILED", exitCode: 3 });
      expect(failed[0]?.statusReason).toBeDefined();
    } finally {
      emu.jobs.clear();
    }
  });

  it("stops a job that has not started", async () => {
    const { emu, backend } = env;
    emu.jobs.holdRunnable(QUEUE);
    try {
      const { jobId } = await backend.platform.submitJob({
        jobName: "held-r1",
        jobQueue: QUEUE,
        jobDefinitionArn: definitionArn,
        arraySize: 2,
        parameters: {},
        environment: {},
        tags: {},
      });
      const held = await backend.platform.describeJob(jobId);
      expect(held?.status).not.toBe("SUCCEEDED");
      await backend.platform.stopJob(jobId, "canary runnable timeout");
      const stopped = await finished(jobId);
      expect(stopped.status).toBe("FAILED");
      expect(emu.calls.some((call) => call.operation === "TerminateJob" && call.input.jobId === jobId)).toBe(true);
    } finally {
      emu.jobs.clear();
    }
  });

  it("submits without SDK retries", async () => {
    const { emu, backend } = env;
    const before = attempts("SubmitJob");
    emu.faults.throttle("SubmitJob", 1);
    await expect(
      backend.platform.submitJob({ jobName: "throttled", jobQueue: QUEUE, jobDefinitionArn: definitionArn, arraySize: 1, parameters: {}, environment: {}, tags: {} }),
    ).rejects.toMatchObject({ code: "AWS", retryable: true, awsErrorName: "ThrottlingException" });
    expect(attempts("SubmitJob")).toBe(before + 1);
  });

  it("maps a missing queue to an ENVIRONMENT error with a hint", async () => {
    const error = await env.backend.platform
      .submitJob({ jobName: "lost", jobQueue: "no-such-queue", jobDefinitionArn: definitionArn, arraySize: 1, parameters: {}, environment: {}, tags: {} })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "ENVIRONMENT",
      retryable: false,
      awsErrorName: "ClientException",
      hint: expect.stringContaining("canary.jobQueue"),
      message: expect.stringMatching(/^Could not submit job lost to job queue no-such-queue: .*no-such-queue/),
    });
  });
});
