import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

const PIPELINE = "svc-reuse";
/** The image is built from app/: the README is outside its context. */
const YAML = servicePipelineYaml(PIPELINE, { repository: "acme/svc-reuse", url: "REPO", arraySize: 1 }).replace(
  `image:\n  repository: ${PIPELINE}\n`,
  `image:\n  repository: ${PIPELINE}\n  context: app\n  dockerfile: app/Dockerfile\n`,
);

beforeAll(async () => {
  [emu, repo, dirs, github] = await Promise.all([startEmulator(), createTestRepo(), createServiceDirs(), startGitHubStandIn()]);
  await createFixtures(emu, { jobQueues: [PIPELINE], codebuildProject: "svc-image" });
  await dirs.writePipeline(PIPELINE, YAML.replace("REPO", `file://${repo.dir}`));
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
const requestRelease = (body: unknown, token: string | null = API_TOKEN, pipeline = PIPELINE) =>
  api(`/api/pipelines/${pipeline}/releases`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
const finished = (sha: string) =>
  waitFor(`release of ${sha.slice(0, 7)} to end`, async () => {
    const { body } = await api(`/api/releases/${PIPELINE}-${sha.slice(0, 12)}`);
    return body.status === "promoted" || body.status === "failed" ? body : undefined;
  }, 60_000);
const push = async (sha: string) => expect((await post(service.url, await signDelivery(SECRET, "push", pushPayload("acme/svc-reuse", sha)))).status).toBe(202);

describe("batchship serve: build once per content", () => {
  it("shows which image a release reused, and builds anew when the API asks for a rebuild", async () => {
    const built = await repo.commit({ "app/Dockerfile": "FROM busybox\n", "README.md": "1\n" });
    await push(built);
    const first = await finished(built);
    expect(first).toMatchObject({ status: "promoted", build: { id: expect.any(String) }, rebuild: false, image: { key: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    expect(first.image.reusedFrom).toBeUndefined();
    const builds = emu.count("StartBuild");

    // Outside the context: no build, the same image, and everything that shows the release says whose image it is.
    const docs = await repo.commit({ "README.md": "2\n" });
    await push(docs);
    const reused = await finished(docs);
    expect(emu.count("StartBuild")).toBe(builds);
    expect(reused).toMatchObject({
      status: "promoted",
      build: null,
      image: { digest: first.image.digest, key: first.image.key, reusedFrom: `batchship-key-${first.image.key}`, reusedFromCommit: built },
    });
    const status = await waitFor("the commit status", () => {
      const latest = github.latest(docs, `batchship/${PIPELINE}`);
      return latest !== undefined && latest.state !== "pending" ? latest : undefined;
    });
    expect(status).toMatchObject({ state: "success" });
    expect(status.description).toMatch(new RegExp(`^image reused from ${built.slice(0, 7)}, canary 1/1 passed, promoted ${PIPELINE}:\\d+$`));
    // A release that has run keeps its image: the commit's tag never moves.
    expect(await requestRelease({ commit: docs, rebuild: true })).toMatchObject({ status: 409, body: { error: { code: "ALREADY_RELEASED" } } });

    // A commit the service was not told about (its push lost): the API releases it, building anew.
    const moved = await repo.commit({ "README.md": "3\n" });
    expect((await requestRelease({ commit: moved, rebuild: true }, null)).status).toBe(401);
    expect(await requestRelease({ commit: moved.slice(0, 7), rebuild: "yes", extra: 1 })).toMatchObject({
      status: 400,
      body: { error: { code: "BAD_RELEASE_REQUEST", message: expect.stringMatching(/commit: expected a full 40-character.*rebuild: .*boolean.*Unrecognized key.*extra/) } },
    });
    expect(await requestRelease("{not json")).toMatchObject({ status: 400, body: { error: { code: "BAD_RELEASE_REQUEST" } } });
    expect(await requestRelease({ commit: moved, rebuild: true }, API_TOKEN, "no-such-pipeline")).toMatchObject({ status: 404, body: { error: { code: "PIPELINE_NOT_FOUND" } } });
    expect(await requestRelease({ commit: moved, branch: "feature", rebuild: true })).toMatchObject({ status: 400, body: { error: { code: "BRANCH_NOT_TRACKED" } } });
    expect(await requestRelease({ commit: built, rebuild: true })).toMatchObject({ status: 409, body: { error: { code: "NOT_BRANCH_HEAD" } } });
    expect(emu.count("StartBuild")).toBe(builds);

    const asked = await requestRelease({ commit: moved, rebuild: true });
    expect(asked).toMatchObject({ status: 202, body: { id: `${PIPELINE}-${moved.slice(0, 12)}`, commit: moved, branch: "main", rebuild: true } });
    // The same request again (a client's retry) is the same release: one build, not two.
    const again = await requestRelease({ commit: moved, rebuild: true });
    expect([200, 202]).toContain(again.status);
    expect(again.body.id).toBe(asked.body.id);
    const rebuilt = await finished(moved);
    expect(rebuilt).toMatchObject({ status: "promoted", rebuild: true, build: { id: expect.any(String) }, image: { key: first.image.key } });
    expect(rebuilt.image.digest).not.toBe(first.image.digest);
    expect(rebuilt.image.reusedFrom).toBeUndefined();
    expect(emu.count("StartBuild")).toBe(builds + 1);
    expect(await requestRelease({ commit: moved, rebuild: true })).toMatchObject({ status: 200, body: { id: asked.body.id, status: "promoted" } });

  });
});
