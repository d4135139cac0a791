import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/index.js";

let store: Store | undefined;
let dir: string | undefined;

afterEach(async () => {
  await store?.close();
  store = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function open(): { store: Store; path: string } {
  dir ??= mkdtempSync(join(tmpdir(), "batchship-batched-"));
  const path = join(dir, "batchship.sqlite");
  store = openStore(path);
  return { store, path };
}

function enqueue(s: Store, id: string): void {
  s.releases.enqueue({ id, pipeline: id, repository: "acme/app", commit: "a".repeat(40), branch: "main", cloneUrl: "https://github.com/acme/app.git", specJson: "{}", deliveryId: "d1" }, 1000);
}

describe("the store's batched writes (a release's bookkeeping)", () => {
  it("commits what one turn of the event loop queued together, in order, and answers each caller once it is committed", async () => {
    const { store: s } = open();
    enqueue(s, "etl-1");
    const written = Array.from({ length: 200 }, (_, i) => s.batched(() => s.stageEvents.append("etl-1", 2000 + i, { type: "warning", message: `event ${i}` })));
    // Nothing is written before the turn ends.
    expect(s.stageEvents.list("etl-1")).toEqual([]);
    await Promise.all(written);
    const events = s.stageEvents.list("etl-1");
    expect(events.map((e) => e.data.message)).toEqual(Array.from({ length: 200 }, (_, i) => `event ${i}`));
  });

  it("undoes a unit that throws alone; the others of its turn are committed", async () => {
    const { store: s } = open();
    enqueue(s, "etl-1");
    const first = s.batched(() => s.stageEvents.append("etl-1", 2000, { type: "warning", message: "kept 1" }));
    const failing = s.batched(() => {
      s.stageEvents.append("etl-1", 2001, { type: "warning", message: "undone" });
      throw new Error("database is locked");
    });
    const last = s.batched(() => s.stageEvents.append("etl-1", 2002, { type: "warning", message: "kept 2" }));
    await expect(failing).rejects.toThrow("database is locked");
    await Promise.all([first, last]);
    expect(s.stageEvents.list("etl-1").map((e) => e.data.message)).toEqual(["kept 1", "kept 2"]);
  });

  it("commits what was queued before the store closes", async () => {
    const { store: s, path } = open();
    enqueue(s, "etl-1");
    void s.batched(() => s.stageEvents.append("etl-1", 2000, { type: "warning", message: "queued at close" }));
    await s.close();
    store = openStore(path);
    expect(store.stageEvents.list("etl-1").map((e) => e.data.message)).toEqual(["queued at close"]);
  });

  it("saves a revision hint with the group commit, and a restarted service reads it back", async () => {
    const { store: s, path } = open();
    expect(s.revisionHints.read("us-east-1 - - etl-canary")).toBeUndefined();
    void s.revisionHints.write("us-east-1 - - etl-canary", { revision: 41, savedAt: 1_000 });
    await s.revisionHints.write("us-east-1 - - etl-canary", { revision: 42, savedAt: 2_000 });
    await s.close();

    store = openStore(path);

    expect(store.revisionHints.read("us-east-1 - - etl-canary")).toEqual({ revision: 42, savedAt: 2_000 });
    expect(store.revisionHints.read("us-east-1 - - etl")).toBeUndefined();
  });
});
