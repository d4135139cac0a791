import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleGit } from "simple-git";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixtures, startEmulator, type Emulator } from "../emulator/index.js";
import { createBareRemote, type BareRemote } from "../gitops/git-remote.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { post, pushPayload, signDelivery } from "./deliveries.js";
import { startGitHubStandIn, type GitHubStandIn } from "./github-stand-in.js";
import { SECRET, createServiceDirs, servicePipelineYaml, serviceSetup, type ServiceDirs } from "./service-fixture.js";
import { killHard, startServiceProcess, stopGracefully, waitFor, type ServiceProcess } from "./service-process.js";

/**
 * Reloading the pipeline files while the service runs: on SIGHUP (files kept current by
 * something else), and on a push to `--config-repository` (git pull --ff-only, then reload).
 */

let emu: Emulator;
let app: TestRepo;
let github: GitHubStandIn;

const RELOADED = "pipelines reloaded";
const RELOAD_FAILED = "pipelines reload failed; keeping the previous ones";
const KEPT = "pipeline file has problems; keeping its last good copy";

beforeAll(async () => {
  [emu, app, github] = await Promise.all([startEmulator(), createTestRepo(), startGitHubStandIn()]);
  await createFixtures(emu, { jobQueues: ["reload-a", "reload-b", "reload-c1", "reload-c2"], codebuildProject: "svc-image" });
});
afterAll(async () => {
  await Promise.all([emu?.close(), app?.remove(), github?.close()]);
});

const pipelineYaml = (name: string) => servicePipelineYaml(name, { repository: `acme/${name}`, url: `file://${app.dir}` });

/** Pushes a new app commit for `acme/<pipeline>`; returns the answer and the release id it would have. */
async function pushApp(service: ServiceProcess, pipeline: string, text: string) {
  const sha = await app.commit({ "app.py": `print(${JSON.stringify(text)})\n` });
  const response = await post(service.url, await signDelivery(SECRET, "push", pushPayload(`acme/${pipeline}`, sha)));
  const body = response.status === 204 ? undefined : ((await response.json()) as any);
  return { status: response.status, body, sha, id: `${pipeline}-${sha.slice(0, 12)}` };
}

const releaseDone = (service: ServiceProcess, id: string) =>
  waitFor(`release ${id} to finish`, async () => {
    const body = (await (await fetch(`${service.url}/api/releases/${id}`)).json()) as any;
    return ["promoted", "awaiting-promotion", "failed"].includes(body.status) ? body : undefined;
  });

/** The first reload outcome (success or failure) logged after log line `mark`. */
function reloadAfter(service: ServiceProcess, mark: number) {
  return service.waitForLog((l) => service.logs.indexOf(l) >= mark && (l.msg === RELOADED || l.msg === RELOAD_FAILED), 15_000);
}

async function sighup(service: ServiceProcess) {
  const mark = service.logs.length;
  service.child.kill("SIGHUP");
  return { line: await reloadAfter(service, mark), mark };
}

/** The `pipeline file skipped` line naming `file`, logged after log line `mark`. */
function skippedAfter(service: ServiceProcess, mark: number, file: string) {
  return service.waitForLog((l) => service.logs.indexOf(l) >= mark && l.msg === "pipeline file skipped" && String(l.problem).includes(file), 5_000);
}

describe("batchship serve: SIGHUP reloads the pipeline files", () => {
  let dirs: ServiceDirs;
  let service: ServiceProcess;

  beforeAll(async () => {
    dirs = await createServiceDirs();
    await dirs.writePipeline("reload-a", pipelineYaml("reload-a"));
    const { env, args } = serviceSetup(emu, dirs, github.url);
    service = await startServiceProcess(args, env);
  });
  afterAll(async () => {
    if (service) await stopGracefully(service);
    await dirs?.remove();
  });

  it("a pipeline file added on disk is picked up on SIGHUP: its repository's pushes then release", async () => {
    const before = await pushApp(service, "reload-b", "before");
    expect(before.status).toBe(204);
    await service.waitForLog((l) => l.msg === "delivery ignored" && l.commit === before.sha && l.reason === "no pipeline names this repository");

    await dirs.writePipeline("reload-b", pipelineYaml("reload-b"));
    const { line } = await sighup(service);
    expect(line).toMatchObject({ msg: RELOADED, reason: "SIGHUP", pipelines: ["reload-a", "reload-b"], problems: 0 });

    const after = await pushApp(service, "reload-b", "after");
    expect(after.status).toBe(202);
    expect(after.body.releases).toEqual([after.id]);
    const release = await releaseDone(service, after.id);
    expect(release).toMatchObject({ status: "promoted", pipeline: "reload-b", commit: after.sha, error: null });
    // The push ignored before the reload stays ignored: it queued nothing.
    expect((await fetch(`${service.url}/api/releases/${before.id}`)).status).toBe(404);
  });

  it("a broken pipeline file is skipped and logged; the service stays up and the other pipelines keep working", async () => {
    await writeFile(join(dirs.pipelines, "zz-broken.yml"), "apiVersion: batchship/v1\nname: [not, a, name\n");
    const { line, mark } = await sighup(service);
    expect(line).toMatchObject({ msg: RELOADED, pipelines: ["reload-a", "reload-b"], problems: expect.any(Number) });
    expect(line.problems).toBeGreaterThan(0);
    expect(String((await skippedAfter(service, mark, "zz-broken.yml")).problem)).toMatch(/zz-broken\.yml:\d+:\d+: /);
    expect(service.child.exitCode).toBeNull();
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);

    const pushed = await pushApp(service, "reload-a", "still works");
    expect(pushed.status).toBe(202);
    expect(pushed.body.releases).toEqual([pushed.id]);
    expect(await releaseDone(service, pushed.id)).toMatchObject({ status: "promoted", error: null });
  });

  it("a pipeline file broken in place keeps its last good copy: logged as an error, shown on /readyz, its pushes still release", async () => {
    await writeFile(join(dirs.pipelines, "reload-b.yml"), "apiVersion: batchship/v1\nname: reload-b\n");
    const { line, mark } = await sighup(service);
    const file = join(dirs.pipelines, "reload-b.yml");
    expect(line).toMatchObject({ msg: RELOADED, pipelines: ["reload-a", "reload-b"], kept: [{ file, pipeline: "reload-b" }] });
    const kept = await service.waitForLog((l) => service.logs.indexOf(l) >= mark && l.msg === KEPT && String(l.problem).includes(file), 5_000);
    expect(kept).toMatchObject({ level: "error", pipeline: "reload-b" });
    expect(String(kept.problem)).toMatch(/reload-b\.yml:\d+:\d+: /);
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);
    // The file by name: /readyz is on the public port and shows no absolute path.
    const warnings = ((await ready.json()) as any).warnings as string[];
    expect(warnings).toEqual([expect.stringContaining("reload-b.yml")]);
    expect(warnings.join("\n")).not.toContain(dirs.pipelines);

    const pushed = await pushApp(service, "reload-b", "while broken");
    expect(pushed.status).toBe(202);
    expect(pushed.body.releases).toEqual([pushed.id]);
    expect(await releaseDone(service, pushed.id)).toMatchObject({ status: "promoted", pipeline: "reload-b", error: null });

    await dirs.writePipeline("reload-b", pipelineYaml("reload-b"));
    await rm(join(dirs.pipelines, "zz-broken.yml"));
    expect((await sighup(service)).line).toMatchObject({ msg: RELOADED, pipelines: ["reload-a", "reload-b"], problems: 0, kept: [] });
    expect(((await (await fetch(`${service.url}/readyz`)).json()) as any).warnings).toBeUndefined();
  });

  it("a reload that fails (the folder cannot be read) keeps the previous pipelines", async () => {
    const moved = `${dirs.pipelines}-moved`;
    await rename(dirs.pipelines, moved);
    try {
      const { line } = await sighup(service);
      expect(line).toMatchObject({ msg: RELOAD_FAILED, reason: "SIGHUP" });
      expect(String(line.error)).toContain("Could not read the pipelines folder");
      expect(service.child.exitCode).toBeNull();
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
      const pushed = await pushApp(service, "reload-b", "kept");
      expect(pushed.status).toBe(202);
      expect(pushed.body.releases).toEqual([pushed.id]);
      expect(await releaseDone(service, pushed.id)).toMatchObject({ status: "promoted", error: null });
    } finally {
      await rename(moved, dirs.pipelines);
    }
  });
});

describe("batchship serve: a push to --config-repository pulls the checkout and reloads", () => {
  const CONFIG = "acme/reload-config";
  let origin: BareRemote;
  let author: TestRepo;
  let root: string;
  let checkout: string;
  let service: ServiceProcess;
  let restartArgs: { args: string[]; env: Record<string, string> };

  /** A person commits to the config repository and pushes to its origin; returns the new sha. */
  async function authorPush(files: Record<string, string>): Promise<string> {
    const sha = await author.commit(files, "config change");
    await simpleGit(author.dir).push("origin", "main");
    return sha;
  }
  async function pushConfig(sha: string): Promise<Response> {
    return post(service.url, await signDelivery(SECRET, "push", pushPayload(CONFIG, sha)));
  }

  beforeAll(async () => {
    [origin, author] = await Promise.all([createBareRemote(), createTestRepo()]);
    await simpleGit(author.dir).addRemote("origin", origin.url);
    await authorPush({ "pipelines/reload-c1.yml": pipelineYaml("reload-c1") });
    root = await mkdtemp(join(tmpdir(), "batchship-service-"));
    checkout = join(root, "config");
    await simpleGit(root).clone(origin.url, checkout, ["--branch", "main", "--quiet"]);
    const dirs: ServiceDirs = {
      root,
      pipelines: join(checkout, "pipelines"),
      data: join(root, "data"),
      writePipeline: (name, yaml) => writeFile(join(checkout, "pipelines", `${name}.yml`), yaml),
      remove: () => rm(root, { recursive: true, force: true }),
    };
    const { env, args } = serviceSetup(emu, dirs, github.url);
    restartArgs = { args: [...args, "--config-repository", CONFIG], env };
    service = await startServiceProcess(restartArgs.args, restartArgs.env);
  });
  afterAll(async () => {
    if (service) await stopGracefully(service);
    await Promise.all([origin?.remove(), author?.remove(), root === undefined ? undefined : rm(root, { recursive: true, force: true })]);
  });

  it("a pipeline committed to the config repository is active after its push delivery", async () => {
    expect(service.logs.find((l) => l.msg === "service listening")).toMatchObject({ pipelines: ["reload-c1"], configOrigin: origin.url });
    expect((await pushApp(service, "reload-c2", "before")).status).toBe(204);

    const sha = await authorPush({ "pipelines/reload-c2.yml": pipelineYaml("reload-c2") });
    const mark = service.logs.length;
    const response = await pushConfig(sha);
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ releases: [] });
    const line = await reloadAfter(service, mark);
    expect(line).toMatchObject({ msg: RELOADED, reason: "push to the config repository", pipelines: ["reload-c1", "reload-c2"], problems: 0 });
    expect((await simpleGit(checkout).revparse(["HEAD"])).trim()).toBe(sha);

    const pushed = await pushApp(service, "reload-c2", "after");
    expect(pushed.status).toBe(202);
    expect(pushed.body.releases).toEqual([pushed.id]);
    expect(await releaseDone(service, pushed.id)).toMatchObject({ status: "promoted", pipeline: "reload-c2", error: null });
  });

  /** Runs `during` with the config repository's origin unreachable (its folder moved away). */
  async function withOriginGone<T>(during: () => Promise<T>): Promise<T> {
    await rename(origin.dir, `${origin.dir}-gone`);
    try {
      return await during();
    } finally {
      await rename(`${origin.dir}-gone`, origin.dir);
    }
  }

  it("a pull that fails is retried with back-off: the change is applied once the origin is back, and /readyz says so meanwhile", async () => {
    const sha = await authorPush({ "pipelines/reload-c3.yml": pipelineYaml("reload-c3") });
    const mark = service.logs.length;
    await withOriginGone(async () => {
      expect((await pushConfig(sha)).status).toBe(202);
      const failed = await reloadAfter(service, mark);
      expect(failed).toMatchObject({ msg: RELOAD_FAILED, reason: "push to the config repository", attempts: 1 });
      const ready = (await (await fetch(`${service.url}/readyz`)).json()) as any;
      expect(ready.warnings).toEqual([expect.stringContaining("pulling the config checkout has failed")]);
      // A second try fails too while the origin is gone, after its pause.
      await service.waitForLog((l) => service.logs.indexOf(l) > mark && l.msg === RELOAD_FAILED && l.attempts === 2, 15_000);
    });
    const reloaded = await service.waitForLog((l) => service.logs.indexOf(l) > mark && l.msg === RELOADED, 15_000);
    expect(reloaded).toMatchObject({ reason: "retry: push to the config repository", pipelines: ["reload-c1", "reload-c2", "reload-c3"] });
    expect((await simpleGit(checkout).revparse(["HEAD"])).trim()).toBe(sha);
    expect(((await (await fetch(`${service.url}/readyz`)).json()) as any).warnings).toBeUndefined();
  });

  it("a config push answered just before a kill -9 is applied when the service starts again", async () => {
    const sha = await authorPush({ "pipelines/reload-c4.yml": pipelineYaml("reload-c4") });
    // The origin is gone while the first service runs, so its reload cannot have happened before the kill.
    await withOriginGone(async () => {
      const mark = service.logs.length;
      expect((await pushConfig(sha)).status).toBe(202);
      expect(await reloadAfter(service, mark)).toMatchObject({ msg: RELOAD_FAILED });
      await killHard(service);
    });
    expect((await simpleGit(checkout).revparse(["HEAD"])).trim()).not.toBe(sha);
    service = await startServiceProcess(restartArgs.args, restartArgs.env);
    expect(service.logs.find((l) => l.msg === "service listening")).toMatchObject({ pipelines: ["reload-c1", "reload-c2", "reload-c3", "reload-c4"] });
    expect((await simpleGit(checkout).revparse(["HEAD"])).trim()).toBe(sha);
  });

  it("a checkout that cannot fast-forward fails the reload and keeps the previous pipelines", async () => {
    // A local commit in the service's checkout: origin's next commit no longer fast-forwards.
    const local = simpleGit(checkout);
    await local.addConfig("user.name", "Test");
    await local.addConfig("user.email", "test@example.com");
    await writeFile(join(checkout, "local.txt"), "local\n");
    await local.add(["local.txt"]);
    await local.commit("local change");
    const sha = await authorPush({ "pipelines/reload-c1.yml": "apiVersion: batchship/v1\nname: reload-c1\n" });

    const mark = service.logs.length;
    expect((await pushConfig(sha)).status).toBe(202);
    const line = await reloadAfter(service, mark);
    expect(line).toMatchObject({ msg: RELOAD_FAILED, reason: "push to the config repository" });
    expect(String(line.error)).toContain("Could not update the pipelines checkout");
    expect(service.child.exitCode).toBeNull();

    const pushed = await pushApp(service, "reload-c1", "kept");
    expect(pushed.status).toBe(202);
    expect(pushed.body.releases).toEqual([pushed.id]);
  });
});
