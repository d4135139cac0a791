import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import DatabaseConstructor from "better-sqlite3";
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
});
