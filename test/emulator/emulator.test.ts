import {
  BatchClient,
  CancelJobCommand,
  DescribeJobDefinitionsCommand,
  DescribeJobsCommand,
  ListJobsCommand,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
  TerminateJobCommand,
  type JobDetail,
} from "@aws-sdk/client-batch";
import { BatchGetBuildsCommand, CodeBuildClient, StartBuildCommand, type Build } from "@aws-sdk/client-codebuild";
import { CreateRepositoryCommand, DescribeImagesCommand, DescribeRepositoriesCommand, ECRClient } from "@aws-sdk/client-ecr";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BUILDSPEC } from "../../src/aws/buildspec.js";
import { createFixtures, startEmulator, STUCK_RUNNABLE_REASON, testClientConfig, type Emulator } from "./index.js";

const CANARY = "canary-queue";
const PRODUCTION = "production-queue";
const PROJECT = "app-build";

let emulator: Emulator;
let batch: BatchClient;
let ecr: ECRClient;
let codebuild: CodeBuildClient;
let jobDefinitionArn: string;
let jobNumber = 0;

beforeAll(async () => {
  emulator = await startEmulator();
  await createFixtures(emulator, { jobQueues: [CANARY, PRODUCTION], codebuildProject: PROJECT });
  batch = new BatchClient(testClientConfig(emulator));
  ecr = new ECRClient(testClientConfig(emulator));
  codebuild = new CodeBuildClient(testClientConfig(emulator));
  const registered = await batch.send(
    new RegisterJobDefinitionCommand({
      jobDefinitionName: "etl-canary",
      type: "container",
      containerProperties: { image: "busybox", vcpus: 1, memory: 128, command: ["true"] },
    }),
  );
  jobDefinitionArn = registered.jobDefinitionArn ?? "";
});

afterAll(async () => {
  batch?.destroy();
  ecr?.destroy();
  codebuild?.destroy();
  await emulator?.close();
});

beforeEach(() => emulator.reset());

async function submit(queue: string, size?: number): Promise<{ jobId: string; jobName: string }> {
  const jobName = `canary-${++jobNumber}`;
  const submitted = await batch.send(
    new SubmitJobCommand({ jobName, jobQueue: queue, jobDefinition: jobDefinitionArn, ...(size ? { arrayProperties: { size } } : {}) }),
  );
  return { jobId: submitted.jobId ?? "", jobName };
}

async function describeJob(jobId: string): Promise<JobDetail> {
  const { jobs } = await batch.send(new DescribeJobsCommand({ jobs: [jobId] }));
  const job = jobs?.[0];
  if (!job) throw new Error(`no job ${jobId}`);
  return job;
}

describe("Batch job lifecycle", () => {
  it("forgets a job aged past what Batch keeps: neither DescribeJobs nor ListJobs returns it or its children", async () => {
    const { jobId, jobName } = await submit(CANARY, 2);
    const kept = await submit(CANARY, 2);
    expect((await describeJob(jobId)).status).toBe("SUCCEEDED");

    emulator.jobs.expire(jobId);

    const { jobs } = await batch.send(new DescribeJobsCommand({ jobs: [jobId, `${jobId}:0`, kept.jobId] }));
    expect(jobs?.map((job) => job.jobId)).toEqual([kept.jobId]);
    const byName = await batch.send(new ListJobsCommand({ jobQueue: CANARY, filters: [{ name: "JOB_NAME", values: [jobName] }] }));
    expect(byName.jobSummaryList).toEqual([]);
    const children = async (parent: string) => (await batch.send(new ListJobsCommand({ arrayJobId: parent, jobStatus: "SUCCEEDED" }))).jobSummaryList;
    expect(await children(jobId)).toEqual([]);
    expect(await children(kept.jobId)).toHaveLength(2);
  });

  it("leaves jobs on unscripted queues as moto runs them", async () => {
    const { jobId } = await submit(PRODUCTION, 3);
    const job = await describeJob(jobId);
    expect(job.status).toBe("SUCCEEDED");
    expect(job.arrayProperties?.statusSummary?.SUCCEEDED).toBe(3);
  });

  it("fails scripted children, consistently in DescribeJobs and ListJobs", async () => {
    emulator.jobs.failChildren(CANARY, [1], { exitCode: 3, reason: "OutOfMemoryError: Container killed due to memory usage" });
    const { jobId, jobName } = await submit(CANARY, 4);

    const parent = await describeJob(jobId);
    expect(parent.status).toBe("FAILED");
    expect(parent.arrayProperties?.size).toBe(4);
    expect(parent.arrayProperties?.statusSummary).toMatchObject({ SUCCEEDED: 3, FAILED: 1, RUNNING: 0 });

    const child = await describeJob(`${jobId}:1`);
    expect(child).toMatchObject({ status: "FAILED", statusReason: "OutOfMemoryError: Container killed due to memory usage" });
    expect(child.container?.exitCode).toBe(3);
    expect(child.container?.logStreamName).toContain(`${jobId}:1`);
    expect((await describeJob(`${jobId}:0`)).container?.exitCode).toBe(0);

    const failed = await batch.send(new ListJobsCommand({ arrayJobId: jobId, jobStatus: "FAILED" }));
    expect(failed.jobSummaryList?.map((j) => [j.jobId, j.status, j.container?.exitCode, j.arrayProperties?.index])).toEqual([
      [`${jobId}:1`, "FAILED", 3, 1],
    ]);
    const succeeded = await batch.send(new ListJobsCommand({ arrayJobId: jobId, jobStatus: "SUCCEEDED" }));
    expect(succeeded.jobSummaryList).toHaveLength(3);

    // By name, moto also lists the children; their states are the scripted ones.
    const byName = await batch.send(new ListJobsCommand({ jobQueue: CANARY, filters: [{ name: "JOB_NAME", values: [jobName] }] }));
    const statuses = Object.fromEntries(byName.jobSummaryList?.map((j) => [j.jobId, j.status]) ?? []);
    expect(statuses[jobId]).toBe("FAILED");
    expect(statuses[`${jobId}:1`]).toBe("FAILED");
    expect(statuses[`${jobId}:2`]).toBe("SUCCEEDED");
  });

  it("shows children RUNNING for the first polls of the parent, then their end", async () => {
    emulator.jobs.runFor(CANARY, 2);
    const { jobId } = await submit(CANARY, 3);

    for (let poll = 1; poll <= 2; poll++) {
      const running = await describeJob(jobId);
      expect(running.status).toBe("PENDING");
      expect(running.arrayProperties?.statusSummary).toMatchObject({ RUNNING: 3, SUCCEEDED: 0 });
      expect(running.stoppedAt).toBeUndefined();
    }
    const done = await describeJob(jobId);
    expect(done.status).toBe("SUCCEEDED");
    expect(done.arrayProperties?.statusSummary).toMatchObject({ RUNNING: 0, SUCCEEDED: 3 });
  });

  it("tells which jobs were submitted under a script: those keep it after clear(), a job submitted after does not", async () => {
    emulator.jobs.runFor(CANARY, 2);
    const held = await submit(CANARY, 2);
    expect(emulator.jobs.scripted(held.jobName)).toBe(true);
    emulator.jobs.clear();
    const free = await submit(CANARY, 2);
    expect(emulator.jobs.scripted(free.jobName)).toBe(false);
    expect((await describeJob(held.jobId)).status).toBe("PENDING");
    expect((await describeJob(free.jobId)).status).toBe("SUCCEEDED");
  });

  it("ends a job held RUNNING at its next poll once the test says so", async () => {
    emulator.jobs.runFor(CANARY, 100_000);
    const { jobId, jobName } = await submit(CANARY, 2);
    expect((await describeJob(jobId)).arrayProperties?.statusSummary).toMatchObject({ RUNNING: 2 });
    expect((await describeJob(jobId)).status).toBe("PENDING");
    emulator.jobs.finishRunning(jobName);
    expect(await describeJob(jobId)).toMatchObject({ status: "SUCCEEDED", arrayProperties: { statusSummary: { RUNNING: 0, SUCCEEDED: 2 } } });
    expect(() => emulator.jobs.finishRunning("never-submitted")).toThrow(/no scripted job/);
  });

  it("holds children RUNNABLE until the job is cancelled", async () => {
    emulator.jobs.holdRunnable(CANARY);
    const { jobId } = await submit(CANARY, 2);

    for (let poll = 0; poll < 3; poll++) {
      const held = await describeJob(jobId);
      expect(held.status).toBe("PENDING");
      expect(held.arrayProperties?.statusSummary).toMatchObject({ RUNNABLE: 2 });
    }
    const child = await describeJob(`${jobId}:0`);
    expect(child).toMatchObject({ status: "RUNNABLE", statusReason: STUCK_RUNNABLE_REASON });
    expect(child.container?.logStreamName).toBeUndefined();
    const runnable = await batch.send(new ListJobsCommand({ arrayJobId: jobId, jobStatus: "RUNNABLE" }));
    expect(runnable.jobSummaryList).toHaveLength(2);

    await batch.send(new CancelJobCommand({ jobId, reason: "stuck RUNNABLE for 15m" }));
    const cancelled = await describeJob(jobId);
    expect(cancelled).toMatchObject({ status: "FAILED", statusReason: "stuck RUNNABLE for 15m" });
    expect(cancelled.arrayProperties?.statusSummary).toMatchObject({ RUNNABLE: 0, FAILED: 2 });
    expect(await describeJob(`${jobId}:1`)).toMatchObject({ status: "FAILED", statusReason: "stuck RUNNABLE for 15m" });
  });

  it("terminates running children but keeps those that already ended", async () => {
    emulator.jobs.runFor(CANARY, 5);
    const { jobId } = await submit(CANARY, 2);
    await describeJob(jobId);
    await batch.send(new TerminateJobCommand({ jobId: `${jobId}:0`, reason: "terminated by test" }));
    const parent = await describeJob(jobId);
    expect(parent.arrayProperties?.statusSummary).toMatchObject({ RUNNING: 1, FAILED: 1 });
    expect(parent.status).toBe("PENDING");
  });

  it("lags the parent's statusSummary behind its children, with a statusSummaryLastUpdatedAt older than its end", async () => {
    emulator.jobs.runFor(CANARY, 1);
    emulator.jobs.lagSummary(CANARY, 2);
    const { jobId } = await submit(CANARY, 3);

    await describeJob(jobId);
    const ended = await describeJob(jobId);
    expect(ended.status).toBe("SUCCEEDED");
    expect(ended.arrayProperties?.statusSummary).toMatchObject({ RUNNING: 3, SUCCEEDED: 0 });
    expect(ended.arrayProperties?.statusSummaryLastUpdatedAt).toBeLessThan(ended.stoppedAt ?? 0);
    await describeJob(jobId);
    const settled = await describeJob(jobId);
    expect(settled.arrayProperties?.statusSummary).toMatchObject({ RUNNING: 0, SUCCEEDED: 3 });
    expect(settled.arrayProperties?.statusSummaryLastUpdatedAt).toBeGreaterThanOrEqual(settled.stoppedAt ?? Infinity);
  });

  it("misses an ended child in the parent's statusSummary for the polls it is told", async () => {
    emulator.jobs.undercountSummary(CANARY, 2);
    const { jobId } = await submit(CANARY, 3);

    for (let poll = 0; poll < 2; poll++) {
      const job = await describeJob(jobId);
      expect(job.status).toBe("SUCCEEDED");
      expect(job.arrayProperties?.statusSummary).toMatchObject({ SUCCEEDED: 2 });
    }
    expect((await describeJob(jobId)).arrayProperties?.statusSummary).toMatchObject({ SUCCEEDED: 3 });
  });

  it("stops an array job asynchronously: the parent stays PENDING, then fails without the reason given", async () => {
    emulator.jobs.holdRunnable(CANARY);
    emulator.jobs.stopSlowly(CANARY, 2);
    const { jobId } = await submit(CANARY, 2);
    await describeJob(jobId);

    await batch.send(new TerminateJobCommand({ jobId, reason: "stopped by test" }));
    const stopping = await describeJob(jobId);
    expect(stopping.status).toBe("PENDING");
    expect(stopping.arrayProperties?.statusSummary).toMatchObject({ RUNNABLE: 2 });
    const stopped = await describeJob(jobId);
    expect(stopped.status).toBe("FAILED");
    expect(stopped.statusReason).toBeUndefined();
    expect(stopped.arrayProperties?.statusSummary).toMatchObject({ FAILED: 2 });
    expect(await describeJob(`${jobId}:0`)).toMatchObject({ status: "FAILED", statusReason: "stopped by test" });
  });

  it("scripts single jobs as child 0", async () => {
    emulator.jobs.failChildren(CANARY, [0], { exitCode: 137 });
    const { jobId } = await submit(CANARY);
    const job = await describeJob(jobId);
    expect(job.status).toBe("FAILED");
    expect(job.container?.exitCode).toBe(137);
  });

  it("pages ListJobs, which moto does not", async () => {
    const { jobId } = await submit(PRODUCTION, 5);
    const first = await batch.send(new ListJobsCommand({ arrayJobId: jobId, maxResults: 2 }));
    expect(first.jobSummaryList).toHaveLength(2);
    const rest = await batch.send(new ListJobsCommand({ arrayJobId: jobId, maxResults: 10, nextToken: first.nextToken }));
    expect(rest.jobSummaryList).toHaveLength(3);
    expect(rest.nextToken).toBeUndefined();
  });
});

describe("faults", () => {
  it("throttles, and the SDK retries through it", async () => {
    const { jobId } = await submit(PRODUCTION);
    emulator.reset();
    emulator.faults.throttle("DescribeJobs", 2);
    const answer = await batch.send(new DescribeJobsCommand({ jobs: [jobId] }));
    expect(answer.$metadata.attempts).toBe(3);
    expect(emulator.calls.map((c) => [c.operation, c.status, c.faulted])).toEqual([
      ["DescribeJobs", 400, true],
      ["DescribeJobs", 400, true],
      ["DescribeJobs", 200, false],
    ]);
    expect(emulator.count("DescribeJobs")).toBe(1);
  });

  it("answers with the protocol's error shape", async () => {
    emulator.faults.throttle("DescribeJobs", 3);
    await expect(batch.send(new DescribeJobsCommand({ jobs: ["x"] }))).rejects.toMatchObject({ name: "ThrottlingException" });
    emulator.faults.throttle("*", 3);
    await expect(ecr.send(new DescribeRepositoriesCommand({}))).rejects.toMatchObject({ name: "ThrottlingException" });
    emulator.faults.throttle("DescribeRepositories", 3, "500");
    await expect(ecr.send(new DescribeRepositoriesCommand({}))).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    emulator.faults.throttle("DescribeRepositories", 2, "429");
    await expect(ecr.send(new DescribeRepositoriesCommand({}))).resolves.toMatchObject({ $metadata: { attempts: 3 } });
    expect(emulator.count("DescribeRepositories")).toBe(1);
  });

  it("throttles by rate per service, as AWS does, and lets a caller through once the rate allows", async () => {
    let now = 1_000_000;
    emulator.faults.rateLimit(["batch"], { perSecond: 2, now: () => now, forMs: 10_000 });
    const once = new BatchClient(testClientConfig(emulator, { maxAttempts: 1 }));
    const describe = () => once.send(new DescribeJobsCommand({ jobs: ["x"] })).then(() => "ok", (error: { name?: string; $metadata?: { httpStatusCode?: number } }) => `${error.name} ${error.$metadata?.httpStatusCode}`);
    // A burst of the rate passes, whatever the operation; the excess is refused as Batch refuses it.
    expect(await describe()).toBe("ok");
    await once.send(new ListJobsCommand({ jobQueue: CANARY }));
    expect(await describe()).toBe("TooManyRequestsException 429");
    // Another service of the same account is not limited.
    await expect(ecr.send(new DescribeRepositoriesCommand({}))).resolves.toMatchObject({ $metadata: { attempts: 1 } });
    // Half a second refills one call's worth, no more.
    now += 500;
    expect(await describe()).toBe("ok");
    expect(await describe()).toBe("TooManyRequestsException 429");
    // A caller slower than the rate is never refused.
    const results: string[] = [];
    for (let i = 0; i < 4; i++) {
      now += 600;
      results.push(await describe());
    }
    expect(results).toEqual(["ok", "ok", "ok", "ok"]);
    // A long quiet spell saves up no more than the burst (here the rate: 2 calls).
    now += 5_000;
    expect([await describe(), await describe(), await describe()]).toEqual(["ok", "ok", "TooManyRequestsException 429"]);
    // After forMs the limit is gone.
    now += 10_000;
    expect([await describe(), await describe(), await describe()]).toEqual(["ok", "ok", "ok"]);
    once.destroy();
    expect(emulator.calls.filter((c) => c.faulted).map((c) => c.operation)).toEqual(["DescribeJobs", "DescribeJobs", "DescribeJobs"]);
  });

  it("loses the reply after moto made the change", async () => {
    emulator.faults.failAfterForwarding("RegisterJobDefinition", 1);
    const once = new BatchClient(testClientConfig(emulator, { maxAttempts: 1 }));
    await expect(
      once.send(
        new RegisterJobDefinitionCommand({
          jobDefinitionName: "lost-reply",
          type: "container",
          containerProperties: { image: "busybox", vcpus: 1, memory: 128 },
        }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    once.destroy();
    const definitions = await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: "lost-reply" }));
    expect(definitions.jobDefinitions?.map((d) => d.revision)).toEqual([1]);
    expect(emulator.calls[0]).toMatchObject({ operation: "RegisterJobDefinition", faulted: true, forwarded: true, status: 500 });
    expect(emulator.count("RegisterJobDefinition")).toBe(1);
  });

  it("lets the SDK's own retry duplicate a non-idempotent call after a lost reply, as AWS would", async () => {
    emulator.faults.failAfterForwarding("RegisterJobDefinition", 1);
    await batch.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: "retried-after-lost-reply",
        type: "container",
        containerProperties: { image: "busybox", vcpus: 1, memory: 128 },
      }),
    );
    const definitions = await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: "retried-after-lost-reply" }));
    expect(definitions.jobDefinitions).toHaveLength(2);
    expect(emulator.count("RegisterJobDefinition")).toBe(2);
  });

  it("delays replies", async () => {
    emulator.faults.latency(150);
    const started = Date.now();
    await ecr.send(new DescribeRepositoriesCommand({}));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe("CodeBuild builds", () => {
  let repositoryUri: string;
  beforeAll(async () => {
    const created = await ecr.send(new CreateRepositoryCommand({ repositoryName: "etl", imageTagMutability: "IMMUTABLE" }));
    repositoryUri = created.repository?.repositoryUri ?? "";
  });

  // batchship's own overrides; `settings` replaces them.
  const start = (tags: string, uri = repositoryUri, idempotencyToken?: string, settings: object = { buildspecOverride: BUILDSPEC, privilegedModeOverride: true }) =>
    codebuild.send(
      new StartBuildCommand({
        projectName: PROJECT,
        sourceVersion: tags.split(" ")[0],
        ...settings,
        ...(idempotencyToken ? { idempotencyToken } : {}),
        environmentVariablesOverride: [
          { name: "IMAGE_REPOSITORY_URI", value: uri, type: "PLAINTEXT" },
          { name: "IMAGE_TAGS", value: tags, type: "PLAINTEXT" },
        ],
      }),
    );
  const poll = async (id: string): Promise<Build> => {
    const { builds } = await codebuild.send(new BatchGetBuildsCommand({ ids: [id] }));
    if (!builds?.[0]) throw new Error(`no build ${id}`);
    return builds[0];
  };
  const digestOf = async (tag: string) =>
    (await ecr.send(new DescribeImagesCommand({ repositoryName: "etl", imageIds: [{ imageTag: tag }] }))).imageDetails?.[0]?.imageDigest;

  it("pushes the image tags like the buildspec, with a digest per build", async () => {
    const started = await start("aaa111 main-1");
    expect(started.build?.startTime).toBeInstanceOf(Date);
    expect(started.build?.environment?.environmentVariables).toContainEqual({ name: "IMAGE_TAGS", value: "aaa111 main-1", type: "PLAINTEXT" });
    const build = await poll(started.build?.id ?? "");
    expect(build.buildStatus).toBe("SUCCEEDED");
    const digest = await digestOf("aaa111");
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await digestOf("main-1")).toBe(digest);

    await start("bbb222");
    expect(await digestOf("bbb222")).not.toBe(digest);
  });

  it("fails the next build when told, pushing nothing", async () => {
    emulator.builds.failNext({ phase: "BUILD", message: "docker build exited 1" });
    const started = await start("ccc333");
    const build = await poll(started.build?.id ?? "");
    expect(build).toMatchObject({ buildStatus: "FAILED", currentPhase: "COMPLETED", buildComplete: true });
    expect(build.phases?.find((p) => p.phaseStatus === "FAILED")).toMatchObject({
      phaseType: "BUILD",
      contexts: [{ statusCode: "COMMAND_EXECUTION_ERROR", message: "docker build exited 1" }],
    });
    await expect(digestOf("ccc333")).rejects.toMatchObject({ name: "ImageNotFoundException" });
    // Only the next one.
    expect((await poll((await start("ddd444")).build?.id ?? "")).buildStatus).toBe("SUCCEEDED");
  });

  it("cannot reach Docker on a project without privileged mode when the build does not ask for it", async () => {
    const started = await start("hhh888", repositoryUri, undefined, { buildspecOverride: BUILDSPEC });
    const build = await poll(started.build?.id ?? "");
    expect(build.buildStatus).toBe("FAILED");
    const failed = build.phases?.find((p) => p.phaseStatus === "FAILED");
    expect(failed?.phaseType).toBe("PRE_BUILD");
    expect(failed?.contexts?.[0]?.message).toMatch(/Cannot connect to the Docker daemon/);
    await expect(digestOf("hhh888")).rejects.toMatchObject({ name: "ImageNotFoundException" });
  });

  it("runs the project's own buildspec when none is sent, which pushes none of batchship's tags", async () => {
    const started = await start("iii999", repositoryUri, undefined, { privilegedModeOverride: true });
    expect((await poll(started.build?.id ?? "")).buildStatus).toBe("SUCCEEDED");
    await expect(digestOf("iii999")).rejects.toMatchObject({ name: "ImageNotFoundException" });
  });

  it("refuses to move a cache tag in an IMMUTABLE repository, and allows it when the tag is excluded", async () => {
    const cacheTagBuildspec = BUILDSPEC.replace("--cache-to type=inline", '--cache-to "type=registry,ref=$IMAGE_REPOSITORY_URI:buildcache,mode=max"');
    const settings = { buildspecOverride: cacheTagBuildspec, privilegedModeOverride: true };
    const immutable = (await ecr.send(new CreateRepositoryCommand({ repositoryName: "cache-immutable", imageTagMutability: "IMMUTABLE" }))).repository;
    expect((await poll((await start("jjj001", immutable?.repositoryUri, undefined, settings)).build?.id ?? "")).buildStatus).toBe("SUCCEEDED");
    const second = await poll((await start("jjj002", immutable?.repositoryUri, undefined, settings)).build?.id ?? "");
    expect(second.buildStatus).toBe("FAILED");
    expect(second.phases?.find((p) => p.phaseStatus === "FAILED")?.contexts?.[0]?.message).toMatch(
      /The image tag 'buildcache' already exists in the 'cache-immutable' repository and cannot be overwritten/,
    );

    const excluded = (
      await ecr.send(
        new CreateRepositoryCommand({
          repositoryName: "cache-excluded",
          imageTagMutability: "IMMUTABLE_WITH_EXCLUSION",
          imageTagMutabilityExclusionFilters: [{ filterType: "WILDCARD", filter: "build*" }],
        }),
      )
    ).repository;
    for (const sha of ["kkk001", "kkk002"]) {
      expect((await poll((await start(sha, excluded?.repositoryUri, undefined, settings)).build?.id ?? "")).buildStatus).toBe("SUCCEEDED");
    }
  });

  it("never rewrites a tag with batchship's buildspec, so an IMMUTABLE repository takes build after build", async () => {
    for (const sha of ["lll001", "lll002", "lll003"]) {
      expect((await poll((await start(sha)).build?.id ?? "")).buildStatus).toBe("SUCCEEDED");
    }
  });

  it("fails the build when the repository does not exist", async () => {
    const started = await start("eee555", `${emulator.accountId}.dkr.ecr.us-east-1.amazonaws.com/missing`);
    const build = await poll(started.build?.id ?? "");
    expect(build.buildStatus).toBe("FAILED");
    expect(build.phases?.find((p) => p.phaseStatus === "FAILED")?.phaseType).toBe("BUILD");
  });

  it("reports advancing phases for a slow build", async () => {
    emulator.builds.slow(3);
    const started = await start("fff666");
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const build = await poll(started.build?.id ?? "");
      seen.push(`${build.buildStatus} ${build.currentPhase}`);
    }
    expect(seen).toEqual(["IN_PROGRESS SUBMITTED", "IN_PROGRESS PROVISIONING", "IN_PROGRESS PRE_BUILD", "SUCCEEDED COMPLETED"]);
  });

  it("answers a repeated idempotency token with the same build", async () => {
    const first = await start("ggg777", repositoryUri, "release-42");
    const again = await start("ggg777", repositoryUri, "release-42");
    expect(again.build?.id).toBe(first.build?.id);
    expect(emulator.count("StartBuild")).toBe(1);
  });

  it("lists unknown build ids as not found", async () => {
    const answer = await codebuild.send(new BatchGetBuildsCommand({ ids: [`${PROJECT}:no-such-build`] }));
    expect(answer.buildsNotFound).toEqual([`${PROJECT}:no-such-build`]);
  });
});

describe("starting moto", () => {
  it("fails with an install hint when moto_server is not on PATH", async () => {
    const path = process.env.PATH;
    process.env.PATH = "";
    try {
      await expect(startEmulator()).rejects.toThrow("pip install 'moto[server]'");
    } finally {
      process.env.PATH = path;
    }
  });
});
