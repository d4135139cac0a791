import { BatchClient, DescribeJobDefinitionsCommand } from "@aws-sdk/client-batch";
import { simpleGit } from "simple-git";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixtures, emulatorEnv, startEmulator, testClientConfig, type Emulator } from "../emulator/index.js";
import { runCli, type CliRun } from "../cli/run-cli.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { post, pushPayload, signDelivery, type Signed } from "./deliveries.js";
import { startGitHubStandIn, type GitHubStandIn } from "./github-stand-in.js";
import { SECRET, createServiceDirs, servicePipelineYaml, serviceSetup, type ServiceDirs } from "./service-fixture.js";
import { startServiceProcess, stopGracefully, waitFor, type ServiceProcess } from "./service-process.js";

/** One app repository per pipeline, so the cases stay apart. */
const PIPELINES = ["order", "replay", "race", "missed"] as const;
type Pipeline = (typeof PIPELINES)[number];

let emu: Emulator;
let dirs: ServiceDirs;
let github: GitHubStandIn;
let service: ServiceProcess;
let batch: BatchClient;
const repos = new Map<Pipeline, TestRepo>();
const heads = new Map<Pipeline, string>();

const repoOf = (pipeline: Pipeline): TestRepo => repos.get(pipeline) as TestRepo;
const short = (sha: string): string => sha.slice(0, 12);
const yaml = (pipeline: Pipeline): string => servicePipelineYaml(pipeline, { repository: `acme/${pipeline}`, url: `file://${repoOf(pipeline).dir}` });

/** A push from the branch's last head to `after`, signed like GitHub's; `before` is what the branch pointed at. */
async function pushOf(pipeline: Pipeline, after: string, before: string): Promise<Signed> {
  const payload = pushPayload(`acme/${pipeline}`, after);
  payload.before = before;
  payload.created = false;
  heads.set(pipeline, after);
  return signDelivery(SECRET, "push", payload);
}

async function commitAndPush(pipeline: Pipeline, label: string): Promise<string> {
  const before = heads.get(pipeline) ?? "";
  const sha = await repoOf(pipeline).commit({ "change.txt": label }, label);
  const response = await post(service.url, await pushOf(pipeline, sha, before));
  expect(response.status).toBe(202);
  return sha;
}

async function release(pipeline: Pipeline, sha: string): Promise<any> {
  const response = await fetch(`${service.url}/api/releases/${pipeline}-${short(sha)}`);
  return response.status === 200 ? response.json() : undefined;
}

const releaseIn = (pipeline: Pipeline, sha: string, statuses: string[], timeoutMs = 60_000) =>
  waitFor(`${pipeline}-${short(sha)} ${statuses.join(" or ")}`, async () => {
    const found = await release(pipeline, sha);
    return found !== undefined && statuses.includes(found.status) ? found : undefined;
  }, timeoutMs);

/**
 * The release's canary job was submitted while the queue's script applied. Its stage is reported
 * before its SubmitJob reaches Batch, so clearing the scripts on the stage alone may leave the
 * job unscripted (it then passes at once).
 */
const canaryScripted = (pipeline: Pipeline, sha: string) =>
  waitFor(`${pipeline}-${short(sha)}'s canary job under its script`, async () => (emu.jobs.scripted(`batchship-${pipeline}-${short(sha)}`) ? true : undefined));

/** The commit production runs: the newest ACTIVE revision's. */
async function productionCommit(pipeline: Pipeline): Promise<string | undefined> {
  const { jobDefinitions = [] } = await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: pipeline, status: "ACTIVE" }));
  const newest = [...jobDefinitions].sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0))[0];
  return newest?.tags?.["batchship:commit"];
}

async function startService(): Promise<void> {
  const { env, args } = serviceSetup(emu, dirs, github.url);
  service = await startServiceProcess(args, env);
}

beforeAll(async () => {
  [emu, dirs, github] = await Promise.all([startEmulator(), createServiceDirs(), startGitHubStandIn()]);
  await createFixtures(emu, { jobQueues: [...PIPELINES], codebuildProject: "svc-image" });
  batch = new BatchClient(testClientConfig(emu));
  for (const pipeline of PIPELINES) {
    const repo = await createTestRepo();
    repos.set(pipeline, repo);
    // The race's CLI reads the pipeline as committed, like a user's checkout.
    heads.set(pipeline, await repo.commit({ [`pipelines/${pipeline}.yml`]: servicePipelineYaml(pipeline, { repository: `acme/${pipeline}`, url: `file://${repo.dir}` }) }, "initial"));
    await dirs.writePipeline(pipeline, yaml(pipeline));
  }
  await startService();
}, 120_000);
afterAll(async () => {
  if (service) await stopGracefully(service);
  batch?.destroy();
  await Promise.all([emu?.close(), dirs?.remove(), github?.close(), ...[...repos.values()].map((r) => r.remove())]);
});

describe("batchship serve: production only moves forward", () => {
  it("a force push back to A, while C releases and B waits, ends on A: B and C are superseded by A", async () => {
    await service.waitForLog((l) => l.msg === "branches seen for the first time; their next move is released" && l.pipeline === "order");
    // C's canary runs until the pushes behind it are in.
    emu.jobs.runFor("order", 100_000);
    const c = await commitAndPush("order", "C");
    await canaryScripted("order", c);
    emu.jobs.clear();
    const a = await commitAndPush("order", "A");
    const b = await commitAndPush("order", "B");
    // Undo B: the branch goes back to A.
    await simpleGit(repoOf("order").dir).reset(["--hard", a]);
    expect((await post(service.url, await pushOf("order", a, b))).status).toBe(202);
    emu.jobs.finishRunning(`batchship-order-${short(c)}`);

    await releaseIn("order", a, ["promoted"]);
    expect(await productionCommit("order")).toBe(a);
    expect(await releaseIn("order", b, ["superseded"])).toMatchObject({ supersededBy: `order-${short(a)}` });
    // C's canary passed after the branch had gone back to A: not promoted.
    expect(await releaseIn("order", c, ["superseded"])).toMatchObject({ canary: { result: "passed" }, production: null, supersededBy: `order-${short(a)}` });
    await waitFor("C's superseded status", () => (github.latest(c, "batchship/order")?.description?.startsWith("superseded") ? true : undefined));
    expect(github.latest(c, "batchship/order")?.description).toBe(`superseded by ${short(a)}; not released`);
  }, 120_000);

  it("a second copy of an old push under another delivery id queues nothing: the newest commit is promoted", async () => {
    emu.jobs.runFor("replay", 100_000);
    const e = await commitAndPush("replay", "E");
    await canaryScripted("replay", e);
    emu.jobs.clear();
    const before = heads.get("replay") ?? "";
    const f = await repoOf("replay").commit({ "change.txt": "F" }, "F");
    const pushF = await pushOf("replay", f, before);
    expect((await post(service.url, pushF)).status).toBe(202);
    const g = await commitAndPush("replay", "G");
    // The organisation webhook's copy of F's push, or its captured body sent again: the delivery id is not signed.
    const copy: Signed = { body: pushF.body, headers: { ...pushF.headers, "x-github-delivery": "another-delivery-id" } };
    const answer = await post(service.url, copy);
    expect(answer.status).toBe(202);
    expect(await answer.json()).toMatchObject({ duplicate: true, releases: [] });
    emu.jobs.finishRunning(`batchship-replay-${short(e)}`);

    await releaseIn("replay", g, ["promoted"]);
    expect(await productionCommit("replay")).toBe(g);
    expect(await releaseIn("replay", f, ["superseded"])).toMatchObject({ supersededBy: `replay-${short(g)}` });
    // E's canary passed after F's and G's pushes: the branch had moved on to G.
    expect(await releaseIn("replay", e, ["superseded"])).toMatchObject({ canary: { result: "passed" }, production: null, supersededBy: `replay-${short(g)}` });
  }, 120_000);

  it("a CLI promote of an older commit racing the service's promotion of a newer one never leaves production on the older", async () => {
    emu.jobs.runFor("race", 100_000);
    const older = await commitAndPush("race", "O");
    await canaryScripted("race", older);
    emu.jobs.runFor("race", 40);
    const newer = await commitAndPush("race", "N");
    emu.jobs.finishRunning(`batchship-race-${short(older)}`);
    // O's canary passes after N was pushed: O is not promoted, but its candidate passed, so a person may promote it.
    await releaseIn("race", older, ["superseded"]);
    await canaryScripted("race", newer);
    emu.jobs.clear();

    const pipelineFile = `${repoOf("race").dir}/pipelines/race.yml`;
    const promotes: Array<Promise<CliRun>> = [];
    for (let i = 0; i < 3; i++) {
      promotes.push(runCli(["promote", "--pipeline", pipelineFile, "--commit", older, "--json"], emulatorEnv(emu), repoOf("race").dir));
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await releaseIn("race", newer, ["promoted"]);
    const runs = await Promise.all(promotes);
    for (const run of runs) {
      // Promoted before the newer one (which then went over it), refused as older, or put right at once.
      if (run.code === 0) expect(JSON.parse(run.stdout)).toMatchObject({ releaseId: `race-${short(older)}` });
      else expect(run.stderr).toMatch(/older than production|production runs/);
    }
    expect(await productionCommit("race")).toBe(newer);
    // And it stays there: an explicit flag is what takes production back.
    const refused = await runCli(["promote", "--pipeline", pipelineFile, "--commit", older], emulatorEnv(emu), repoOf("race").dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`production (race:`);
    expect(refused.stderr).toContain("--allow-older");
    const back = await runCli(["promote", "--pipeline", pipelineFile, "--commit", older, "--allow-older"], emulatorEnv(emu), repoOf("race").dir);
    expect(back.code).toBe(0);
    expect(back.stderr).toMatch(new RegExp(`promoted race-${short(older)} as race:\\d+ .*; it replaces race:\\d+ \\(release race-${short(newer)}\\)`));
    expect(await productionCommit("race")).toBe(older);
  }, 180_000);
});

describe("batchship serve: missed deliveries are caught up", () => {
  it("a push made while the service was down is released after it starts; the first sight of a branch released nothing", async () => {
    const initial = heads.get("missed") ?? "";
    expect(await release("missed", initial)).toBeUndefined();
    await stopGracefully(service);
    const missed = await repoOf("missed").commit({ "change.txt": "made while the service was down" }, "missed");
    await startService();
    await service.waitForLog((l) => l.msg === "branch moved without a delivery; release queued" && l.pipeline === "missed");
    await releaseIn("missed", missed, ["promoted"]);
    expect(await productionCommit("missed")).toBe(missed);
    expect(await release("missed", initial)).toBeUndefined();
  }, 120_000);
});
