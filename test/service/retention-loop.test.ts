import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleGit } from "simple-git";
import { afterEach, describe, expect, it } from "vitest";
import { createMirrorCache, type MirrorCache } from "../../src/git/mirror-cache.js";
import { createLocalBackend, readLocalOptions } from "../../src/local/index.js";
import { openStateStore } from "../../src/local/state-store.js";
import { createLogger } from "../../src/server/logger.js";
import { createBackends, type Backends } from "../../src/service/backends.js";
import { readServiceConfig } from "../../src/service/config.js";
import { createLoadedPipelines } from "../../src/service/loaded-pipelines.js";
import { loadPipelineSet } from "../../src/service/pipeline-set.js";
import { startRetentionLoop, type RetentionLoop } from "../../src/service/retention-loop.js";
import { openStore, type Store } from "../../src/store/index.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { until } from "../support/until.js";

const DAY = 24 * 60 * 60 * 1000;

let root: string | undefined;
let store: Store | undefined;
let loop: RetentionLoop | undefined;
let backends: Backends | undefined;
let repos: TestRepo[] = [];
afterEach(async () => {
  await loop?.stop();
  await store?.close();
  for (const backend of backendsMade) backend.close();
  backendsMade = [];
  await Promise.all(repos.map((r) => r.remove()));
  repos = [];
  if (root) await rm(root, { recursive: true, force: true });
});
let backendsMade: Array<{ close(): void }> = [];

/** The parts of a service the retention loop is given, on a data dir of its own; the clock stands still at `now`. */
async function serviceParts(now: number, pipelineSource: string) {
  root = await mkdtemp(join(tmpdir(), "batchship-retention-"));
  const dataDir = join(root, "data");
  const stateDir = join(root, "local-state");
  const pipelinesDir = join(root, "pipelines");
  await mkdir(pipelinesDir, { recursive: true });
  await writeFile(join(pipelinesDir, "hello.yml"), localPipelineYaml("hello", pipelineSource));
  const set = await loadPipelineSet(pipelinesDir, now);
  expect(set.problems).toEqual([]);
  store = openStore(join(dataDir, "batchship.sqlite"));
  const mirrors = createMirrorCache({ dir: join(dataDir, "mirrors"), allowFileSources: true });
  backends = createBackends(() => {
    const backend = createLocalBackend(readLocalOptions({ BATCHSHIP_STATE_DIR: stateDir }));
    backendsMade.push(backend);
    return backend;
  });
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({ write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>), level: "debug" });
  const config = readServiceConfig({ pipelines: pipelinesDir, dataDir }, { BATCHSHIP_WEBHOOK_SECRET: "test-secret" });
  const pipelines = createLoadedPipelines(pipelinesDir, () => now, { set, configOrigin: undefined });
  return { dataDir, stateDir, store, mirrors, backends, logs, logger, config, pipelines, clock: () => now };
}

function localPipelineYaml(name: string, url: string): string {
  return `apiVersion: batchship/v1
name: ${name}
source:
  repository: acme/${name}
  branches: [main]
  url: ${url}
image:
  repository: 127.0.0.1:5000/${name}
build:
  backend: local
jobDefinition:
  name: ${name}
  platform: local
  containerProperties:
    command: ["run"]
canary:
  jobQueue: local
  arraySize: 1
promotion:
  mode: auto
`;
}

async function appRepo(): Promise<{ url: string; sha: string }> {
  const repo = await createTestRepo();
  repos.push(repo);
  const sha = await repo.commit({ "app.sh": `echo ${repos.length}\n` });
  return { url: `file://${repo.dir}`, sha };
}

/** A mirror of `url` holding its commit, last used at `at`. */
async function mirrorOf(mirrors: MirrorCache, repo: { url: string; sha: string }, at: number): Promise<string> {
  const path = await mirrors.fetchCommit({ url: repo.url, branch: "main", commit: repo.sha });
  await utimes(path, new Date(at), new Date(at));
  return path;
}


describe("the service's retention loop", () => {
  it("prunes, in its first pass, what is older than the retention days and done with; it keeps what a pipeline or a running release still uses", async () => {
    const now = Date.now();
    const old = now - 40 * DAY;
    const recent = now - 2 * DAY;
    const [source, runningSource, unused, recentlyUsed] = await Promise.all([appRepo(), appRepo(), appRepo(), appRepo()]);
    const parts = await serviceParts(now, source.url);
    const { store: s, mirrors, stateDir } = parts;
    expect(parts.config.retentionDays).toBe(30);

    // The store: an old and a recent delivery; a release that ended long ago (its stage events and
    // its sent commit status as old); a release running since as long ago; an old finished reconcile.
    s.deliveries.insert({ id: "d-old", event: "push", receivedAt: old, outcome: "accepted", httpStatus: 202 });
    s.deliveries.insert({ id: "d-recent", event: "push", receivedAt: recent, outcome: "accepted", httpStatus: 202 });
    const release = (id: string, cloneUrl: string, commit: string) => ({ id, pipeline: id.split("-")[0] ?? id, repository: "acme/app", commit, branch: "main", cloneUrl, specJson: "{}", deliveryId: "d-old" });
    const status = (releaseId: string, commit: string) => ({ releaseId, repository: "acme/app", commit, context: "batchship/app", state: "pending" as const, description: "queued", targetUrl: "" });
    s.releases.enqueue(release("ended-1", unused.url, unused.sha), old);
    expect(s.releases.claimNext(old)?.release.id).toBe("ended-1");
    s.stageEvents.append("ended-1", old, { type: "stage-started", stage: "build" });
    s.releases.finish("ended-1", { status: "failed", error: { code: "BUILD_FAILED", message: "the build failed" } }, old);
    s.statusReports.enqueue(status("ended-1", unused.sha), old);
    for (const report of s.statusReports.takeDue(old, 10)) s.statusReports.markSent(report.id, old);
    s.releases.enqueue(release("running-1", runningSource.url, runningSource.sha), old);
    expect(s.releases.claimNext(old)?.release.id).toBe("running-1");
    s.stageEvents.append("running-1", old, { type: "stage-started", stage: "canary" });
    s.statusReports.enqueue(status("running-1", runningSource.sha), old);
    s.reconciles.enqueue({ pipeline: "hello", specJson: "{}", deliveryId: "d-old" }, old);
    const reconcile = s.reconciles.claimNext(old);
    expect(reconcile && s.reconciles.markDone(reconcile, "{}", old)).toBe(true);

    // The mirrors: of the pipeline's source, of the running release's, of nothing any more, and one used lately.
    const [gone, ...kept] = await Promise.all([
      mirrorOf(mirrors, unused, old),
      mirrorOf(mirrors, source, old),
      mirrorOf(mirrors, runningSource, old),
      mirrorOf(mirrors, recentlyUsed, recent),
    ]);

    // The local backend's logs: of a build and a job that ended long ago, and of the running release's build and job.
    const local = openStateStore(stateDir);
    const logFile = async (path: string) => {
      await mkdir(join(path, ".."), { recursive: true });
      await writeFile(path, "output\n");
      return path;
    };
    const build = async (id: string, status: string) => {
      const log = await logFile(join(stateDir, "builds", `${id}.log`));
      local.prepare(`INSERT INTO builds (id, release_id, commit_sha, status, phases, log_path, started_at) VALUES (?, ?, 'c', ?, '[]', ?, ?)`).run(id, id, status, log, old);
      return log;
    };
    const job = async (id: string, stoppedAt: number | null) => {
      const log = await logFile(join(stateDir, "jobs", id, "0.attempt-1.log"));
      local
        .prepare(`INSERT INTO jobs (job_id, job_name, job_queue, definition_arn, parameters, environment, tags, owner_pid, owner_host, created_at, stopped_at)
          VALUES (?, 'canary', 'local', 'arn', '{}', '[]', '{}', 1, 'h', ?, ?)`)
        .run(id, old, stoppedAt);
      return log;
    };
    const oldLogs = [await build("ended-1", "failed"), await job("5b1f8a52-ended", old + DAY)];
    const runningLogs = [await build("running-1", "in-progress"), await job("5b1f8a52-running", null)];
    local.close();

    // The service started: no release has needed the local backend yet.
    loop = startRetentionLoop(parts);
    const stored = await until("the store's pruning", () => parts.logs.find((l) => l.msg === "store pruned"));
    const files = await until("the files' pruning", () => parts.logs.find((l) => l.msg === "files pruned"));
    await loop.stop();

    expect(stored).toMatchObject({ olderThanDays: 30, deliveries: 1, stageEvents: 1, statusReports: 1, reconciles: 1 });
    expect(files).toMatchObject({ olderThanDays: 30, mirrors: 1, buildLogs: 1, jobLogs: 1 });
    expect(s.deliveries.get("d-old")).toBeUndefined();
    expect(s.deliveries.get("d-recent")).toBeDefined();
    // Releases are history: kept, whatever their age; the running one's events and pending status too.
    expect(s.releases.get("ended-1")).toMatchObject({ status: "failed" });
    expect(s.stageEvents.list("ended-1")).toEqual([]);
    expect(s.stageEvents.list("running-1")).toHaveLength(1);
    expect(s.statusReports.pendingCount()).toBe(1);
    expect(s.reconciles.get(reconcile?.id ?? 0)).toBeUndefined();
    expect((await readdir(join(parts.dataDir, "mirrors"))).sort()).toEqual(kept.map((path) => path.slice(join(parts.dataDir, "mirrors").length + 1)).sort());
    expect(existsSync(gone)).toBe(false);
    for (const path of oldLogs) expect(existsSync(path)).toBe(false);
    for (const path of runningLogs) expect(existsSync(path)).toBe(true);
  }, 30_000);

  it("leaves a mirror a release is fetching into, and the fetch ends with the commit in it", async () => {
    const now = Date.now();
    const old = now - 40 * DAY;
    const fetched = await appRepo();
    // The loaded pipeline's source is another repository, never fetched here.
    const parts = await serviceParts(now, "file:///srv/git/acme/hello.git");
    // A mirror nothing uses (no pipeline names its URL, no open release), last used long ago.
    await mirrorOf(parts.mirrors, fetched, old);
    const next = await repos[0]?.commit({ "app.sh": "echo newer\n" });

    // A release claimed after the pass read what is in use fetches its newer commit, as the pass runs.
    const fetching = parts.mirrors.fetchCommit({ url: fetched.url, branch: "main", commit: next ?? "" });
    loop = startRetentionLoop(parts);
    const path = await fetching;
    const files = await until("the pass to end", () => parts.logs.find((l) => l.msg === "files pruned"));
    await loop.stop();

    expect(files).toMatchObject({ level: "debug", mirrors: 0 });
    expect(parts.logs.filter((l) => l.level === "error")).toEqual([]);
    expect(existsSync(path)).toBe(true);
    expect((await simpleGit(path).raw(["cat-file", "-t", next ?? ""])).trim()).toBe("commit");
  }, 30_000);
});
