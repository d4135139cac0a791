import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import type { MirrorCache } from "../../src/git/mirror-cache.js";
import { readBuildSources } from "../../src/git/build-sources.js";
import type { Backend, BuildState, ImageRepository } from "../../src/release/ports.js";
import { createLogger } from "../../src/server/logger.js";
import { createMetrics } from "../../src/server/metrics.js";
import { createBackends } from "../../src/service/backends.js";
import { readServiceConfig } from "../../src/service/config.js";
import { releaseDetailView } from "../../src/service/release-view.js";
import { runOneRelease } from "../../src/service/run-one-release.js";
import type { ServiceState } from "../../src/service/service-state.js";
import { createStatusOutbox } from "../../src/service/status-outbox.js";
import { openStore, type ReleaseRecord, type Store } from "../../src/store/index.js";
import { makeSpec } from "../support/spec.js";
import { unreachablePlatform } from "../support/unreachable-platform.js";

let repo: TestRepo | undefined;

let store: Store | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await store?.close();
  await repo?.remove();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/**
 * A service stopped while a release builds: the build poll in flight returns (with `polled`'s
 * state), then the service's guard stops the engine. Runs the real engine, shutdown guard,
 * event recording, store and metrics registry; only AWS and git are stand-ins.
 */
async function stopDuringBuild(polled: BuildState["status"]) {
  dataDir = mkdtempSync(join(tmpdir(), "batchship-interrupted-"));
  // The service reads the build's sources (tree ids) from its mirror: a real repository.
  repo = await createTestRepo();
  const commit = await repo.commit({ Dockerfile: "FROM scratch\n" });
  const releaseId = `etl-${commit.slice(0, 12)}`;
  store = openStore(join(dataDir, "batchship.sqlite"));
  const metrics = createMetrics({ queueDepth: () => 0, running: () => 0, pendingReports: () => 0 });
  onTestFinished(() => metrics.stop());
  const logs: string[] = [];
  const logger = createLogger({ write: (line) => logs.push(line), level: "debug" });
  const shutdown = new AbortController();

  const repository: ImageRepository = { name: "etl", uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/etl" };
  const build = (status: BuildState["status"]): BuildState => ({ id: "etl-image:1", status, phases: [], ...(status === "failed" ? { detail: "FAILED" } : {}) });
  const backend: Backend = {
    builder: {
      findBuild: async () => undefined,
      startBuild: async () => build("in-progress"),
      // SIGTERM arrives while this call is in flight; its answer still comes back.
      getBuild: async () => {
        shutdown.abort();
        return build(polled);
      },
    },
    registry: { ensureRepository: async () => repository, findDigest: async () => undefined },
    platform: unreachablePlatform("the release should not get this far"),
  };
  // No history: the head and order rules cannot judge, and stay out of this test's way.
  const mirrors: MirrorCache = { fetchCommit: async () => (repo as TestRepo).dir, history: () => ({ headOf: async () => undefined, contains: async () => undefined }),
    remoteHeads: async () => new Map(),
    buildSources: readBuildSources,
    prune: async () => 0,
  };
  const state: ServiceState = {
    config: readServiceConfig({ pipelines: "pipelines", pollInterval: "0.01" }, { BATCHSHIP_WEBHOOK_SECRET: "test-secret", BATCHSHIP_ALLOW_SHORT_INTERVALS: "1" }),
    store,
    logger,
    metrics,
    statuses: createStatusOutbox(store, { enabled: false, targetUrl: (id) => `https://batchship.example.com/api/releases/${id}` }),
    clock: () => Date.now(),
    pipelines: {
      current: () => {
        throw new Error("the release should not read the pipelines");
      },
      configOrigin: () => undefined,
      reload: () => {
        throw new Error("the release should not reload the pipelines");
      },
    },
    backends: createBackends(() => backend),
    ledgerFor: async () => undefined,
    mirrors,
  };

  const spec = makeSpec();
  store.releases.enqueue(
    {
      id: releaseId,
      pipeline: spec.name,
      repository: "acme/etl",
      commit,
      branch: "main",
      cloneUrl: "https://github.com/acme/etl.git",
      specJson: JSON.stringify(spec),
      deliveryId: "delivery-1",
    },
    Date.now(),
  );
  const claimed = store.releases.claimNext(Date.now());
  expect(claimed?.release.id).toBe(releaseId);
  await runOneRelease(state, mirrors, claimed?.release as ReleaseRecord, shutdown.signal);

  const release = store.releases.get(releaseId);
  const events = store.stageEvents.list(releaseId);
  return {
    release,
    events,
    view: releaseDetailView(release as ReleaseRecord, events, (id) => `/api/releases/${id}`),
    exposition: await metrics.registry.metrics(),
    releaseId,
    logs: logs.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe("a stage the service's shutdown interrupts", () => {
  it("is interrupted, not failed: in the stage duration metric, in the stored timeline, and the release counts nothing yet", async () => {
    const { release, events, view, exposition, logs, releaseId } = await stopDuringBuild("in-progress");

    expect(exposition).toMatch(/^batchship_stage_duration_seconds_count\{stage="build",outcome="interrupted"\} 1$/m);
    expect(exposition).not.toContain('outcome="failed"');
    // Not a final status: the release resumes on the next start and is counted when it ends.
    expect(exposition).not.toMatch(/^batchship_releases_total\{/m);

    expect(release).toMatchObject({ status: "running", stage: "build", error: null });
    const finished = events.filter((e) => e.type === "stage-finished");
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ stage: "build", data: { outcome: "interrupted" } });
    expect(view.stages).toMatchObject([{ stage: "build", outcome: "interrupted" }]);

    expect(logs.filter((l) => l.level === "warn" || l.level === "error")).toEqual([]);
    expect(logs.find((l) => l.msg === "release paused for shutdown; it resumes on the next start")).toMatchObject({ releaseId, stage: "build" });
  });

  it("still fails when the answer of the call in flight is a failure", async () => {
    const { release, events, exposition } = await stopDuringBuild("failed");

    expect(exposition).toMatch(/^batchship_stage_duration_seconds_count\{stage="build",outcome="failed"\} 1$/m);
    expect(exposition).not.toContain('outcome="interrupted"');
    expect(exposition).toMatch(/^batchship_releases_total\{status="failed"\} 1$/m);
    expect(release).toMatchObject({ status: "failed", error: { code: "BUILD_FAILED" } });
    expect(events.find((e) => e.type === "stage-finished")).toMatchObject({ stage: "build", data: { outcome: "failed" } });
  });
});
