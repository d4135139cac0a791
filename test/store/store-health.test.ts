import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import DatabaseConstructor from "better-sqlite3";
import { Registry } from "prom-client";
import { healthRoutes } from "../../src/server/health-routes.js";
import { readiness } from "../../src/service/readiness.js";
import type { PipelineSet } from "../../src/service/pipeline-set.js";
import { startWorker } from "../../src/store/ingest-writer.js";
import { afterEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/index.js";

let store: Store | undefined;
let dir: string | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
  // Closed means stopped: nothing is left writing into the folder as it is removed.
  if (dir) rmSync(dir, { recursive: true });
  dir = undefined;
});

async function until(what: string, probe: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("the store's health", () => {
  it("is answered at once while another connection holds the write lock, and tells once the writer cannot take it", async () => {
    dir = mkdtempSync(join(tmpdir(), "batchship-health-"));
    const path = join(dir, "batchship.sqlite");
    store = openStore(path);
    const s = store;
    await until("the first probe", () => s.health().writable);

    const other = new DatabaseConstructor(path);
    other.exec("BEGIN IMMEDIATE");
    try {
      // The probe waits on the writer's thread (up to the 5 s busy timeout), never on this one.
      for (let i = 0; i < 20; i++) {
        const started = performance.now();
        expect(s.health()).toMatchObject({ writer: true, checkpointer: true });
        // Far below the busy timeout it would take on this thread (the machine may be loaded).
        expect(performance.now() - started).toBeLessThan(1_000);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await until("the store to be reported not writable", () => !s.health().writable);
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
    await until("the store to be reported writable again", () => s.health().writable);
  });

  it("a dead checkpoint thread is told once, with its cause, and fails /readyz naming it; the store goes on recording", async () => {
    dir = mkdtempSync(join(tmpdir(), "batchship-health-"));
    const told: Error[] = [];
    store = openStore(join(dir, "batchship.sqlite"), {
      onCheckpointerFailure: (error) => told.push(error),
      // A real thread that dies as it starts (as on running out of memory); the delivery writer is the store's own.
      startThread: (name, data) => (name === "checkpoint-worker" ? new Worker("throw new Error('out of memory')", { eval: true }) : startWorker(name, data)),
    });
    const s = store;
    await until("the checkpoint thread's death to be told", () => told.length > 0);
    expect(told.map((e) => e.message)).toEqual(["WAL checkpoints stopped: the store's checkpoint thread died (out of memory)"]);
    expect(s.health()).toMatchObject({ writer: true, checkpointer: false });

    const pipelines: PipelineSet = { specs: new Map([["etl", {} as never]]), problems: [], kept: [], files: new Map(), loadedAt: 1 };
    const [, readyz] = healthRoutes({ registry: new Registry(), ready: () => readiness({ store: s.health(), pipelines, accepting: true }) });
    const answer = await readyz?.handler({} as never);
    expect(answer).toMatchObject({
      status: 503,
      body: { status: "not ready", checks: { storeWriter: true, storeCheckpointer: false }, warnings: [expect.stringContaining("the store's checkpoint thread died")] },
    });
    await expect(s.recordDelivery({ delivery: { id: "d1", event: "ping", receivedAt: 1, outcome: "ping", httpStatus: 200 }, releases: [], reconciles: [] })).resolves.toEqual({ queued: [] });
  });
});
