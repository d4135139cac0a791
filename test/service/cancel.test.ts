import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STOP_REASON } from "../../src/canary/stop-reasons.js";
import { createFixtures, startEmulator, type Emulator } from "../emulator/index.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { post, pushPayload, signDelivery } from "./deliveries.js";
import { startGitHubStandIn, type GitHubStandIn } from "./github-stand-in.js";
import { API_TOKEN, SECRET, createServiceDirs, servicePipelineYaml, serviceSetup, type ServiceDirs } from "./service-fixture.js";
import { startServiceProcess, stopGracefully, waitFor, type ServiceProcess } from "./service-process.js";

let emu: Emulator;
let repo: TestRepo;
let dirs: ServiceDirs;
let github: GitHubStandIn;
let service: ServiceProcess;

beforeAll(async () => {
  [emu, repo, dirs, github] = await Promise.all([startEmulator(), createTestRepo(), createServiceDirs(), startGitHubStandIn()]);
  await createFixtures(emu, { jobQueues: ["svc-cancel"], codebuildProject: "svc-image" });
  await dirs.writePipeline("svc-cancel", servicePipelineYaml("svc-cancel", { repository: "acme/svc-cancel", url: `file://${repo.dir}` }));
  const { env, args } = serviceSetup(emu, dirs, github.url);
  service = await startServiceProcess(args, env);
});
afterAll(async () => {
  if (service) await stopGracefully(service);
  await Promise.all([emu?.close(), repo?.remove(), dirs?.remove(), github?.close()]);
});

const api = async (path: string, init: RequestInit = {}) => {
  const response = await fetch(`${service.url}${path}`, init);
  return { status: response.status, body: (await response.json()) as any };
};

describe("batchship serve: cancel through the API", () => {
  it("terminates the running canary; the release ends with the cancel, reported as its commit status", async () => {
    emu.jobs.runFor("svc-cancel", 100_000);
    const sha = await repo.commit({ "app.py": "print('cancel me')\n" });
    expect((await post(service.url, await signDelivery(SECRET, "push", pushPayload("acme/svc-cancel", sha)))).status).toBe(202);
    const id = `svc-cancel-${sha.slice(0, 12)}`;
    await waitFor("the canary to be submitted", () => (emu.count("SubmitJob") > 0 ? true : undefined), 60_000);

    expect((await api(`/api/releases/${id}/cancel`, { method: "POST" })).status).toBe(401);
    const cancelled = await api(`/api/releases/${id}/cancel`, { method: "POST", headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(cancelled).toMatchObject({ status: 200, body: { releaseId: id, canary: { stoppedJobs: [expect.any(String)] } } });

    const done = await waitFor(`release ${id} to end`, async () => {
      const { body } = await api(`/api/releases/${id}`);
      return body.status === "running" || body.status === "queued" ? undefined : body;
    }, 60_000);
    expect(done).toMatchObject({ status: "cancelled", error: { code: "CANCELLED" } });
    const terminate = emu.calls.find((c) => c.operation === "TerminateJob" && c.forwarded);
    expect(terminate?.input).toMatchObject({ reason: STOP_REASON.cancelled });
    const status = await waitFor("the commit status", () => {
      const latest = github.latest(sha, "batchship/svc-cancel");
      return latest !== undefined && latest.state !== "pending" ? latest : undefined;
    });
    expect(status).toMatchObject({ state: "error", description: expect.stringMatching(/^cancelled: /) });
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/batchship_releases_total\{status="cancelled"\} 1/);

    const again = await api(`/api/releases/${id}/cancel`, { method: "POST", headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(again).toMatchObject({ status: 409, body: { error: { code: "NOT_RUNNING" } } });
  });
});

describe("batchship serve: retry through the API", () => {
  it("queues a cancelled release again once: one new canary job, no second build; a second retry at once is refused", async () => {
    emu.jobs.clear();
    const sha = await repo.commit({ "app.py": "print('retry me')\n" });
    const id = `svc-cancel-${sha.slice(0, 12)}`;
    emu.jobs.runFor("svc-cancel", 100_000);
    const submitted = emu.count("SubmitJob");
    expect((await post(service.url, await signDelivery(SECRET, "push", pushPayload("acme/svc-cancel", sha)))).status).toBe(202);
    await waitFor("the canary to be submitted", () => (emu.count("SubmitJob") > submitted ? true : undefined), 60_000);
    const authorized = { method: "POST", headers: { authorization: `Bearer ${API_TOKEN}` } };
    expect((await api(`/api/releases/${id}/retry`, authorized))).toMatchObject({ status: 409, body: { error: { code: "NOT_RETRYABLE", message: expect.stringContaining("running") } } });
    expect((await api(`/api/releases/${id}/cancel`, authorized)).status).toBe(200);
    const cancelled = await waitFor(`release ${id} to end`, async () => {
      const { body } = await api(`/api/releases/${id}`);
      return body.status === "running" || body.status === "queued" ? undefined : body;
    }, 60_000);
    expect(cancelled.status).toBe("cancelled");

    emu.jobs.clear();
    const builds = emu.count("StartBuild");
    const jobs = emu.count("SubmitJob");
    expect((await api(`/api/releases/${id}/retry`, { method: "POST" })).status).toBe(401);
    const answers = await Promise.all([api(`/api/releases/${id}/retry`, authorized), api(`/api/releases/${id}/retry`, authorized)]);
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409]);
    expect(answers.find((a) => a.status === 202)?.body).toMatchObject({ releaseId: id, status: "queued", previous: "cancelled" });
    expect(answers.find((a) => a.status === 409)?.body).toMatchObject({ error: { code: "NOT_RETRYABLE" } });

    const done = await waitFor(`the retried release ${id} to end`, async () => {
      const { body } = await api(`/api/releases/${id}`);
      return ["queued", "running", "cancelled"].includes(body.status) ? undefined : body;
    }, 60_000);
    expect(done.status).toMatch(/^(promoted|awaiting-promotion)$/);
    expect(emu.count("SubmitJob")).toBe(jobs + 1);
    expect(emu.count("StartBuild")).toBe(builds);
    expect(done.canary.jobId).not.toBe(cancelled.canary.jobId);
    expect((await api(`/api/releases/${id}/retry`, authorized))).toMatchObject({ status: 409, body: { error: { code: "NOT_RETRYABLE" } } });
  });
});

