import { join } from "node:path";
import { BatchClient, DescribeJobDefinitionsCommand } from "@aws-sdk/client-batch";
import { simpleGit } from "simple-git";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isBatchshipRecordCommit, recordCommitMessage } from "../../src/git/record-commit-marker.js";
import { createFixtures, startEmulator, testClientConfig, type Emulator } from "../emulator/index.js";
import { createBareRemote, RELEASES, type BareRemote } from "../gitops/git-remote.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { releaseCalls } from "./aws-calls.js";
import { post, pushPayload, signDelivery } from "./deliveries.js";
import { startGitHubStandIn, type GitHubStandIn } from "./github-stand-in.js";
import { SECRET, createServiceDirs, servicePipelineYaml, serviceSetup, type ServiceDirs } from "./service-fixture.js";
import { startServiceProcess, stopGracefully, waitFor, type ServiceProcess } from "./service-process.js";

let emu: Emulator;
let app: TestRepo;
let dirs: ServiceDirs;
let github: GitHubStandIn;
let records: BareRemote;
let service: ServiceProcess;

const APP = "acme/svc-gitops";
const CONFIG = "acme/deploy";
const PIPELINE = "svc-gitops";
const RECORD = `releases/${PIPELINE}.json`;

beforeAll(async () => {
  [emu, app, dirs, github, records] = await Promise.all([startEmulator(), createTestRepo(), createServiceDirs(), startGitHubStandIn(), createBareRemote()]);
  await createFixtures(emu, { jobQueues: [PIPELINE], codebuildProject: "svc-image" });
  // The config checkout's origin is the bare repository: the records' default home.
  const checkout = simpleGit(join(dirs.root, "config"));
  await checkout.init();
  await checkout.addRemote("origin", records.url);
  const yaml = servicePipelineYaml(PIPELINE, { repository: APP, url: `file://${app.dir}` });
  await dirs.writePipeline(PIPELINE, `${yaml}  gitops: {}\n`);
  const { env, args } = serviceSetup(emu, dirs, github.url);
  service = await startServiceProcess(args, env);
});
afterAll(async () => {
  if (service) await stopGracefully(service);
  await Promise.all([emu?.close(), app?.remove(), dirs?.remove(), github?.close(), records?.remove()]);
});

const json = async (path: string) => (await (await fetch(`${service.url}${path}`)).json()) as any;
const releaseDone = (id: string) =>
  waitFor(`release ${id} to finish`, async () => {
    const body = await json(`/api/releases/${id}`);
    return ["promoted", "awaiting-promotion", "failed"].includes(body.status) ? body : undefined;
  }, 60_000);
const productionRegistrations = () =>
  emu.calls.filter((c) => c.forwarded && c.operation === "RegisterJobDefinition" && c.input.jobDefinitionName === PIPELINE);

/** A push of the releases branch of the records repository, as GitHub would send it. */
async function pushReleasesBranch(head: { sha: string; message: string }): Promise<Response> {
  const payload = pushPayload(CONFIG, head.sha, RELEASES);
  payload.repository.clone_url = records.url;
  payload.head_commit.message = head.message;
  payload.commits = [{ ...payload.head_commit }];
  return post(service.url, await signDelivery(SECRET, "push", payload));
}

async function releaseThroughService(files: Record<string, string>) {
  const sha = await app.commit(files);
  const response = await post(service.url, await signDelivery(SECRET, "push", pushPayload(APP, sha)));
  expect(response.status).toBe(202);
  const release = await releaseDone(`${PIPELINE}-${sha.slice(0, 12)}`);
  expect(release.error).toBeNull();
  return release;
}

describe("batchship serve with GitOps", () => {
  it("starts no release for a push whose head commit is a batchship record commit", async () => {
    const sha = await app.commit({ "app.py": "print('looped')\n" }, recordCommitMessage(PIPELINE, `Promote ${PIPELINE} to somewhere`));
    const payload = pushPayload(APP, sha);
    payload.head_commit.message = recordCommitMessage(PIPELINE, `Promote ${PIPELINE} to somewhere`);
    const response = await post(service.url, await signDelivery(SECRET, "push", payload));
    expect(response.status).toBe(204);
    await service.waitForLog((l) => l.msg === "delivery ignored" && l.commit === sha);
    expect(service.logs.find((l) => l.msg === "delivery ignored" && l.commit === sha)?.reason).toBe("head commit is a batchship record commit");
    const releaseId = `${PIPELINE}-${sha.slice(0, 12)}`;
    expect((await fetch(`${service.url}/api/releases/${releaseId}`)).status).toBe(404);
    expect(releaseCalls(emu, releaseId, PIPELINE).startBuild).toBe(0);
    expect(emu.calls.some((c) => c.operation === "StartBuild")).toBe(false);
  });

  it("promotes a GitOps pipeline through a record commit on the releases branch; the echo of that commit changes nothing", async () => {
    const release = await releaseThroughService({ "app.py": "print('one')\n" });
    expect(release).toMatchObject({ status: "promoted", production: { revision: 1 } });

    const [commit, ...older] = await records.log(RECORD);
    expect(older).toEqual([]);
    expect(isBatchshipRecordCommit(commit?.message ?? "")).toBe(true);
    expect(JSON.parse((await records.show(RECORD)) ?? "{}")).toMatchObject({ pipeline: PIPELINE, releaseId: release.releaseId ?? release.id, image: { digest: release.image.digest } });
    expect(productionRegistrations()).toHaveLength(1);

    // GitHub tells the service about its own push: reconciled (in sync), never released.
    const echo = await pushReleasesBranch({ sha: commit?.sha ?? "", message: commit?.message ?? "" });
    expect(echo.status).toBe(202);
    expect(await echo.json()).toMatchObject({ releases: [], reconciles: [PIPELINE] });
    const done = await service.waitForLog((l) => l.msg === "reconcile finished" && l.recordCommit === commit?.sha);
    expect(done).toMatchObject({ action: "in-sync", pipeline: PIPELINE });
    expect(productionRegistrations()).toHaveLength(1);
  });

  it("reconciles a `git revert` pushed to the releases branch: production goes back, and automatic promotion is held", async () => {
    const first = JSON.parse((await records.show(RECORD)) ?? "{}");
    const second = await releaseThroughService({ "app.py": "print('two')\n" });
    expect(second).toMatchObject({ status: "promoted", production: { revision: 2 } });
    const [promotion] = await records.log(RECORD);

    const person = await records.personClone();
    await person.git.raw(["revert", "--no-edit", promotion?.sha ?? ""]);
    await person.git.push("origin", RELEASES);
    const [reverted] = await records.log(RECORD);
    expect(reverted?.sha).not.toBe(promotion?.sha);

    const response = await pushReleasesBranch({ sha: reverted?.sha ?? "", message: reverted?.message ?? "" });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ releases: [], reconciles: [PIPELINE] });
    const done = await service.waitForLog((l) => l.msg === "reconcile finished" && l.recordCommit === reverted?.sha);
    expect(done).toMatchObject({ action: "registered", kind: "rollback", record: first.releaseId, held: true });

    // Batch (moto) now runs the first release's image again, as a third production revision.
    expect(productionRegistrations()).toHaveLength(3);
    const batch = new BatchClient(testClientConfig(emu));
    try {
      const { jobDefinitions = [] } = await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: PIPELINE, status: "ACTIVE" }));
      const newest = jobDefinitions.sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0))[0];
      expect(newest).toMatchObject({ revision: 3, containerProperties: { image: first.image.uri } });
      expect(newest?.tags).toMatchObject({ "batchship:release": first.releaseId, "batchship:record-commit": reverted?.sha });
    } finally {
      batch.destroy();
    }
    const [hold] = await records.log(`releases/${PIPELINE}.hold.json`);
    expect(isBatchshipRecordCommit(hold?.message ?? "")).toBe(true);
  });
});
