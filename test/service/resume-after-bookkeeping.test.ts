import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import type { MirrorCache } from "../../src/git/mirror-cache.js";
import { readBuildSources } from "../../src/git/build-sources.js";
import type { Backend, BuildState, ImageRepository } from "../../src/release/ports.js";
import { createLogger } from "../../src/server/logger.js";
import { createMetrics } from "../../src/server/metrics.js";
import { createBackends } from "../../src/service/backends.js";
import { readServiceConfig } from "../../src/service/config.js";
import { createStatusOutbox } from "../../src/service/status-outbox.js";
import { createWorkers, type Workers } from "../../src/service/workers.js";
import { openStore, type Store } from "../../src/store/index.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { makeSpec } from "../support/spec.js";
import { unreachablePlatform } from "../support/unreachable-platform.js";
import { until } from "../support/until.js";

let repo: TestRepo | undefined;
let store: Store | undefined;
let workers: Workers | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await workers?.stop(1_000);
  await store?.close();
  await repo?.remove();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});


describe("a release whose own bookkeeping fails", () => {
  it("stays running, holding its pipeline, and is resumed: it ends as the engine says, without a second build", async () => {
    dataDir = mkdtempSync(join(tmpdir(), "batchship-bookkeeping-"));
    repo = await createTestRepo();
    const commit = await repo.commit({ Dockerfile: "FROM scratch\n" });
    const real = openStore(join(dataDir, "batchship.sqlite"));
    store = real;
    // The store's own interface, failing where the first run records its end (busy past its
    // timeout, say). That end is batched: a unit that throws is tried once more on its own in the
    // same commit, so the first run's end fails twice.
    let finishes = 0;
    const flaky: Store = {
      ...real,
      releases: {
        ...real.releases,
        finish(...args) {
          finishes++;
          if (finishes <= 2) throw Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });
          real.releases.finish(...args);
        },
      },
    };
    const logs: Array<Record<string, unknown>> = [];
    const logger = createLogger({ write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>), level: "debug" });

    const repository: ImageRepository = { name: "etl", uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/etl" };
    let started: BuildState | undefined;
    const failed = (): BuildState => ({ id: "etl-image:1", status: "failed", phases: [], detail: "FAILED" });
    const backend: Backend = {
      builder: {
        // As CodeBuild: the build of this release is found again by a resumed run.
        findBuild: async () => started,
        startBuild: async () => (started = failed()),
        getBuild: async () => failed(),
      },
      registry: { ensureRepository: async () => repository, findDigest: async () => undefined },
      platform: unreachablePlatform("a failed build goes no further"),
    };
    let builds = 0;
    const counting: Backend = { ...backend, builder: { ...backend.builder, startBuild: async (request) => (builds++, backend.builder.startBuild(request)) } };
    const mirrors: MirrorCache = {
      fetchCommit: async () => (repo as TestRepo).dir,
      history: () => ({ headOf: async () => undefined, contains: async () => undefined }),
      remoteHeads: async () => new Map(),
      buildSources: readBuildSources,
      prune: async () => 0,
    };
    const config = readServiceConfig({ pipelines: "pipelines", pollInterval: "0.01" }, { BATCHSHIP_WEBHOOK_SECRET: "test-secret", BATCHSHIP_ALLOW_SHORT_INTERVALS: "1" });
    const metrics = createMetrics({ queueDepth: () => 0, running: () => 0, pendingReports: () => 0 });
    onTestFinished(() => metrics.stop());
    workers = createWorkers(
      {
        config,
        clock: () => Date.now(),
        logger,
        metrics,
        store: flaky,
        statuses: createStatusOutbox(flaky, { enabled: false, targetUrl: () => "" }),
        backends: createBackends(() => counting),
        ledgerFor: async () => undefined,
      },
      mirrors,
      { concurrency: 1 },
    );

    const spec = makeSpec();
    const id = `etl-${commit.slice(0, 12)}`;
    real.releases.enqueue({ id, pipeline: "etl", repository: "acme/etl", commit, branch: "main", cloneUrl: "https://github.com/acme/etl.git", specJson: JSON.stringify(spec), deliveryId: "d1" }, Date.now());
    workers.start();

    const ended = await until("the release to end", () => {
      const release = real.releases.get(id);
      return release?.status === "running" || release?.status === "queued" ? undefined : release;
    });
    expect(ended).toMatchObject({ status: "failed", attempts: 2, error: { code: "BUILD_FAILED" } });
    expect(finishes).toBe(3);
    expect(builds).toBe(1);
    expect(logs.find((l) => l.msg === "release worker failed; resuming the release shortly")).toMatchObject({ level: "error", releaseId: id, error: "database is locked" });
    expect(logs.find((l) => l.msg === "release resumed")).toMatchObject({ releaseId: id, attempt: 2 });
    // Ended, it holds its pipeline no more: the next commit is claimed.
    expect(real.holds.blocking("release").has("etl")).toBe(false);
  }, 60_000);
});
