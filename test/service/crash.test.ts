import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixtures, startEmulator, type Emulator } from "../emulator/index.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { releaseCalls } from "./aws-calls.js";
import { post, pushPayload, signDelivery } from "./deliveries.js";
import { startGitHubStandIn, type GitHubStandIn } from "./github-stand-in.js";
import { SECRET, createServiceDirs, servicePipelineYaml, serviceSetup, type ServiceDirs } from "./service-fixture.js";
import { killHard, startServiceProcess, stopGracefully, waitFor, type ServiceProcess } from "./service-process.js";

let emu: Emulator;
// One repository per pipeline, as GitHub has: the service catches up with a source whose branch
// moved without a delivery, so pipelines sharing one would release each other's commits.
const repos = new Map<string, TestRepo>();
const repoOf = (pipeline: string): TestRepo => repos.get(pipeline) as TestRepo;
let dirs: ServiceDirs;
let github: GitHubStandIn;
let setup: { env: Record<string, string>; args: string[] };
const PIPELINES = ["crash-build", "crash-canary", "crash-promote", "crash-term", "retry-throttled", "retry-newer"];

beforeAll(async () => {
  [emu, dirs, github] = await Promise.all([startEmulator(), createServiceDirs(), startGitHubStandIn()]);
  for (const name of PIPELINES) repos.set(name, await createTestRepo());
  await createFixtures(emu, { jobQueues: PIPELINES, codebuildProject: "svc-image" });
  for (const name of PIPELINES) {
    await dirs.writePipeline(name, servicePipelineYaml(name, { repository: `acme/${name}`, url: `file://${repoOf(name).dir}` }));
  }
  setup = serviceSetup(emu, dirs, github.url);
});
afterAll(async () => {
  await Promise.all([emu?.close(), ...[...repos.values()].map((repo) => repo.remove()), dirs?.remove(), github?.close()]);
});

/**
 * Pushes a commit for `pipeline`, kills the service with SIGKILL once `reached` says the release
 * got there, starts it again on the same data dir, and returns the release as it ended.
 */
async function crashAndResume(pipeline: string, reached: (releaseId: string) => boolean): Promise<{ id: string; release: any; resumed: ServiceProcess; restartedAt: number }> {
  // Calls of both runs stay recorded: the counts below are for the release's whole life.
  const sha = await repoOf(pipeline).commit({ [`${pipeline}.txt`]: pipeline });
  const id = `${pipeline}-${sha.slice(0, 12)}`;
  const first = await startServiceProcess(setup.args, setup.env);
  expect((await post(first.url, await signDelivery(SECRET, "push", pushPayload(`acme/${pipeline}`, sha)))).status).toBe(202);
  await waitFor(`${pipeline} to reach the crash point`, () => (reached(id) ? true : undefined), 30_000, 2);
  await killHard(first);
  emu.faults.clear();
  emu.builds.clear();

  const restartedAt = emu.calls.length;
  const resumed = await startServiceProcess(setup.args, setup.env);
  await resumed.waitForLog((l) => l.msg === "release resumed" && l.releaseId === id);
  const release = await waitFor(`${id} to finish`, async () => {
    const body = (await (await fetch(`${resumed.url}/api/releases/${id}`)).json()) as any;
    return ["promoted", "failed", "awaiting-promotion"].includes(body.status) ? body : undefined;
  });
  return { id, release, resumed, restartedAt };
}

describe("batchship serve: kill -9 at any moment loses nothing and repeats nothing", () => {
  it("during the build", async () => {
    emu.builds.slow(30);
    // Calls of earlier tests stay recorded too: look for this release's own.
    const { id, release, resumed } = await crashAndResume("crash-build", (releaseId) => {
      const start = emu.calls.find((c) => c.operation === "StartBuild" && c.status === 200 && c.input.idempotencyToken?.startsWith(releaseId));
      return start !== undefined && emu.calls.slice(emu.calls.indexOf(start)).some((c) => c.operation === "BatchGetBuilds");
    });
    expect(release.error).toBeNull();
    expect(release).toMatchObject({ status: "promoted", attempts: 2 });
    // The build was found again after the restart, not started again.
    expect(releaseCalls(emu, id, "crash-build")).toEqual({ startBuild: 1, candidateRegistrations: 1, submitJob: 1, promotions: 1 });
    await stopGracefully(resumed);
  });

  it("during the canary", async () => {
    emu.jobs.runFor("crash-canary", 40);
    const { id, release, resumed, restartedAt } = await crashAndResume("crash-canary", (releaseId) =>
      emu.calls.some((c) => c.operation === "SubmitJob" && c.status === 200 && c.input.jobName === `batchship-${releaseId}`),
    );
    expect(release.error).toBeNull();
    expect(release).toMatchObject({ status: "promoted", canary: { result: "passed" } });
    // The canary job was found by name: no second build, candidate or canary job.
    expect(releaseCalls(emu, id, "crash-canary")).toEqual({ startBuild: 1, candidateRegistrations: 1, submitJob: 1, promotions: 1 });
    // The restarted service looks for the candidate around the newest revision the first one
    // saved in its store, not by searching up to the highest number a revision can have.
    const candidateLookup = emu.calls
      .slice(restartedAt)
      .find((c) => c.operation === "DescribeJobDefinitions" && (c.input.jobDefinitions ?? []).includes("crash-canary-canary:1"));
    expect(candidateLookup).toBeDefined();
    expect(candidateLookup?.input.jobDefinitions).not.toContain("crash-canary-canary:2147483647");
    await stopGracefully(resumed);
  });

  it("just after the promotion reached AWS, before its answer did", async () => {
    // Every answer is held back: the promotion is in moto, the service has not heard of it.
    emu.faults.latency(150);
    const { id, release, resumed } = await crashAndResume("crash-promote", () =>
      emu.calls.some((c) => c.operation === "RegisterJobDefinition" && c.input.jobDefinitionName === "crash-promote" && c.forwarded && c.status === 0),
    );
    expect(release.error).toBeNull();
    expect(release).toMatchObject({ status: "promoted", production: { revision: 1 } });
    expect(releaseCalls(emu, id, "crash-promote")).toEqual({ startBuild: 1, candidateRegistrations: 1, submitJob: 1, promotions: 1 });
    const final = await waitFor("the success status", () => {
      const last = github.statuses.filter((s) => s.context === "batchship/crash-promote").at(-1);
      return last?.state === "success" ? last : undefined;
    });
    expect(final).toMatchObject({ state: "success", description: "canary 2/2 passed, promoted crash-promote:1" });
    await stopGracefully(resumed);
  });

  it("SIGTERM during the canary exits 0 at once and the release resumes on the next start", async () => {
    emu.jobs.runFor("crash-term", 40);
    const sha = await repoOf("crash-term").commit({ "term.txt": "term" });
    const id = `crash-term-${sha.slice(0, 12)}`;
    const first = await startServiceProcess(setup.args, setup.env);
    expect((await post(first.url, await signDelivery(SECRET, "push", pushPayload("acme/crash-term", sha)))).status).toBe(202);
    // This release's canary: the emulator's calls also hold earlier tests' submissions.
    const submitted = () => emu.calls.some((c) => c.operation === "SubmitJob" && c.status === 200 && c.input.jobName === `batchship-${id}`);
    await waitFor("the canary", () => (submitted() ? true : undefined));
    const started = Date.now();
    expect((await stopGracefully(first)).code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(first.logs.some((l) => l.msg === "release paused for shutdown; it resumes on the next start" && l.releaseId === id)).toBe(true);

    const resumed = await startServiceProcess(setup.args, setup.env);
    const release = await waitFor(`${id} to finish`, async () => {
      const body = (await (await fetch(`${resumed.url}/api/releases/${id}`)).json()) as any;
      return body.status === "promoted" ? body : undefined;
    }, 60_000);
    expect(release.attempts).toBe(2);
    expect(releaseCalls(emu, id, "crash-term")).toEqual({ startBuild: 1, candidateRegistrations: 1, submitJob: 1, promotions: 1 });
    await stopGracefully(resumed);
  });

  it("a release that failed for a reason that may pass runs again from where it stopped, without a second build or canary", async () => {
    const sha = await repoOf("retry-throttled").commit({ "retry.txt": "retry" });
    const id = `retry-throttled-${sha.slice(0, 12)}`;
    // AWS failing (5xx) far past the engine's own retries: the first run of the release fails
    // there. (Throttling is waited out instead, for up to 15 minutes.)
    emu.faults.throttle("SubmitJob", 10_000, "500");
    const service = await startServiceProcess(setup.args, setup.env);
    expect((await post(service.url, await signDelivery(SECRET, "push", pushPayload("acme/retry-throttled", sha)))).status).toBe(202);
    const retrying = await service.waitForLog((l) => l.msg === "release failed for a reason that may pass; running it again" && l.releaseId === id);
    expect(retrying).toMatchObject({ attempt: 1, stage: "canary", errorCode: "AWS" });
    expect((await (await fetch(`${service.url}/api/releases/${id}`)).json()) as any).toMatchObject({ status: "running" });
    emu.faults.clear();

    const release = await waitFor(`${id} to finish`, async () => {
      const body = (await (await fetch(`${service.url}/api/releases/${id}`)).json()) as any;
      return ["promoted", "failed"].includes(body.status) ? body : undefined;
    }, 60_000);
    expect(release.error).toBeNull();
    expect(release).toMatchObject({ status: "promoted", production: { revision: 1 } });
    expect(releaseCalls(emu, id, "retry-throttled")).toEqual({ startBuild: 1, candidateRegistrations: 1, submitJob: 1, promotions: 1 });
    await stopGracefully(service);
  });

  it("a failed release is not run again when a newer commit of its pipeline is queued: that one runs instead", async () => {
    const older = await repoOf("retry-newer").commit({ "newer.txt": "1" });
    const olderId = `retry-newer-${older.slice(0, 12)}`;
    emu.faults.throttle("SubmitJob", 10_000, "500");
    const service = await startServiceProcess(setup.args, setup.env);
    expect((await post(service.url, await signDelivery(SECRET, "push", pushPayload("acme/retry-newer", older)))).status).toBe(202);
    await service.waitForLog((l) => l.msg === "release failed for a reason that may pass; running it again" && l.releaseId === olderId);
    const newer = await repoOf("retry-newer").commit({ "newer.txt": "2" });
    const newerId = `retry-newer-${newer.slice(0, 12)}`;
    expect((await post(service.url, await signDelivery(SECRET, "push", pushPayload("acme/retry-newer", newer)))).status).toBe(202);
    await service.waitForLog((l) => l.msg === "not running the release again: a newer commit of the pipeline is queued" && l.releaseId === olderId);
    // The release's row is written with its other bookkeeping at the end of the event loop's
    // turn; "release finished" is logged once it is.
    const finished = await service.waitForLog((l) => l.msg === "release finished" && l.releaseId === olderId);
    expect(finished).toMatchObject({ status: "failed", errorCode: "AWS" });
    emu.faults.clear();

    const status = async (id: string) => ((await (await fetch(`${service.url}/api/releases/${id}`)).json()) as any).status as string;
    expect(await status(olderId)).toBe("failed");
    await waitFor(`${newerId} to be promoted`, async () => ((await status(newerId)) === "promoted" ? true : undefined), 60_000);
    // The pipeline was promoted once: to the newer commit.
    expect(releaseCalls(emu, newerId, "retry-newer").promotions).toBe(1);
    await stopGracefully(service);
  });
});
