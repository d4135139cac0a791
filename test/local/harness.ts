import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleGit } from "simple-git";
import { createLocalBackend, readLocalOptions } from "../../src/local/index.js";
import { createEngineContext, type EngineContext } from "../../src/release/context.js";
import type { ReleaseEvent } from "../../src/release/events.js";
import type { Backend } from "../../src/release/ports.js";
import { PipelineSpec } from "../../src/spec/schema.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { startRegistry, type TestRegistry } from "./registry.js";

const EXAMPLE = new URL("../../examples/hello/", import.meta.url);
/** Debian's busybox-static: the example image needs nothing from the network. */
export const BUSYBOX = "/bin/busybox";

export interface LocalHarness {
  registry: TestRegistry;
  repo: TestRepo;
  stateDir: string;
  backend: Backend;
  /** The example app's files, with a changed app.sh when `appSuffix` is given. */
  appFiles(appSuffix?: string): Promise<Record<string, string>>;
  /** The example pipeline for this registry, with the canary and job definition overridden. */
  spec(name: string, overrides?: { canary?: Record<string, unknown>; jobDefinition?: Record<string, unknown>; promotion?: "auto" | "manual" }): PipelineSpec;
  engine(): { ctx: EngineContext; events: ReleaseEvent[] };
  close(): Promise<void>;
}

/** A registry, an app repository holding the example app, and a local backend with its own state dir. */
export async function startLocalHarness(): Promise<LocalHarness> {
  const registry = await startRegistry();
  const repo = await createTestRepo();
  await copyFile(BUSYBOX, join(repo.dir, "busybox"));
  // Staged now, committed with the first commit the test makes.
  await simpleGit(repo.dir).add(["busybox"]);
  const stateDir = await mkdtemp(join(tmpdir(), "batchship-state-"));
  const backend = createLocalBackend({
    ...readLocalOptions({ PATH: process.env["PATH"] ?? "", BATCHSHIP_STATE_DIR: stateDir }),
    repositoryDir: repo.dir,
    concurrency: 2,
  });
  return {
    registry,
    repo,
    stateDir,
    backend,
    async appFiles(appSuffix) {
      const app = await readFile(new URL("app.sh", EXAMPLE), "utf8");
      return {
        Dockerfile: await readFile(new URL("Dockerfile", EXAMPLE), "utf8"),
        "app.sh": appSuffix === undefined ? app : `${app}# ${appSuffix}\n`,
      };
    },
    spec(name, overrides = {}) {
      return PipelineSpec.parse({
        apiVersion: "batchship/v1",
        name,
        source: { repository: "example/hello", branches: ["main"] },
        image: { repository: `${registry.host}/${name}` },
        build: { backend: "local", timeoutMinutes: 10 },
        jobDefinition: {
          name,
          platform: "local",
          containerProperties: { command: ["Ref::greeting"] },
          parameters: { greeting: "hello" },
          ...overrides.jobDefinition,
        },
        canary: { jobQueue: "local", arraySize: 3, timeoutMinutes: 5, runnableTimeoutMinutes: 5, ...overrides.canary },
        promotion: { mode: overrides.promotion ?? "auto" },
      });
    },
    engine() {
      const events: ReleaseEvent[] = [];
      // Real time: the children are real processes.
      const ctx = createEngineContext(backend, {
        observe: (e) => events.push(e),
        polling: { buildIntervalMs: 200, canaryIntervalMs: 200, retryDelayMs: 100, retryAttempts: 2 },
      });
      return { ctx, events };
    },
    async close() {
      (backend as { close?: () => void }).close?.();
      await registry.close();
      await repo.remove();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
