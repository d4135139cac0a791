import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import DatabaseConstructor from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { startIngestWriter } from "../../src/store/ingest-writer.js";
import { openStore, type DeliveryToRecord, type Store } from "../../src/store/index.js";

let store: Store | undefined;
let dir: string | undefined;

function open(): { store: Store; path: string } {
  dir ??= mkdtempSync(join(tmpdir(), "batchship-store-"));
  const path = join(dir, "batchship.sqlite");
  store = openStore(path);
  return { store, path };
}

async function closeAndSettle(): Promise<void> {
  await store?.close();
  store = undefined;
}

afterEach(async () => {
  await closeAndSettle();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function push(deliveryId: string, commit: string, options: { withStatus?: boolean } = {}): DeliveryToRecord {
  const release = { id: `etl-${commit.slice(0, 12)}`, pipeline: "etl", repository: "acme/app", commit, branch: "main", cloneUrl: "https://github.com/acme/app.git", specJson: "{}" };
  return {
    delivery: { id: deliveryId, event: "push", receivedAt: 1000, outcome: "accepted", httpStatus: 202, repository: "acme/app", ref: "refs/heads/main", after: commit },
    releases: [
      options.withStatus
        ? { release, queuedStatus: { releaseId: release.id, repository: "acme/app", commit, context: "batchship/etl", state: "pending", description: "queued", targetUrl: "http://service/releases/x" } }
        : { release },
    ],
    reconciles: [],
  };
}

const sha = (n: number): string => createHash("sha1").update(String(n)).digest("hex");

describe("recording deliveries from the store's writer thread", () => {
  it("queues the delivery's releases and their queued statuses, readable from the service's connection once recorded", async () => {
    const { store } = open();
    const recorded = await store.recordDelivery(push("d-1", sha(1), { withStatus: true }));
    expect(recorded).toEqual({ queued: [`etl-${sha(1).slice(0, 12)}`] });
    expect(store.deliveries.get("d-1")).toMatchObject({ outcome: "accepted", httpStatus: 202, after: sha(1) });
    expect(store.releases.get(`etl-${sha(1).slice(0, 12)}`)).toMatchObject({ status: "queued", deliveryId: "d-1" });
    expect(store.statusReports.pendingCount()).toBe(1);
  });

  it("answers a redelivery with the first copy's status and writes nothing for it", async () => {
    const { store } = open();
    await store.recordDelivery(push("d-1", sha(1)));
    const again = await store.recordDelivery({ ...push("d-1", sha(2)), delivery: { ...push("d-1", sha(2)).delivery, httpStatus: 204 } });
    expect(again).toEqual({ duplicateOf: 202, queued: [] });
    expect(store.releases.get(`etl-${sha(2).slice(0, 12)}`)).toBeUndefined();
    expect(store.deliveries.countByOutcome()).toEqual({ accepted: 1 });
  });

  it("keeps one release of a commit two pushes carry, moved to the end of the queue by the later push", async () => {
    const { store } = open();
    const id = `etl-${sha(1).slice(0, 12)}`;
    expect((await store.recordDelivery(push("d-1", sha(1)))).queued).toEqual([id]);
    await store.recordDelivery(push("d-2", sha(2)));
    // A force push back to sha(1): it is the newest push now.
    expect((await store.recordDelivery(push("d-3", sha(1)))).queued).toEqual([id]);
    expect(store.releases.countByStatus()).toEqual({ queued: 2 });
    expect(store.releases.list({ pipeline: "etl", limit: 1 })[0]).toMatchObject({ id, deliveryId: "d-3" });
  });

  it("answers a copy of a delivery under another id (same content key) as a duplicate, and queues nothing for it", async () => {
    const { store } = open();
    const keyed = (id: string, commit: string, before: string): DeliveryToRecord => {
      const input = push(id, commit);
      return { ...input, delivery: { ...input.delivery, contentKey: `push acme/app refs/heads/main ${before}..${commit}` } };
    };
    await store.recordDelivery(keyed("repo-hook", sha(1), sha(0)));
    await store.recordDelivery(keyed("repo-hook-2", sha(2), sha(1)));
    // The organisation webhook's copy of the first push, or a replayed body: it must not jump the queue.
    expect(await store.recordDelivery(keyed("org-hook", sha(1), sha(0)))).toEqual({ duplicateOf: 202, queued: [] });
    expect(store.releases.list({ pipeline: "etl", limit: 1 })[0]).toMatchObject({ commit: sha(2) });
    expect(store.deliveries.get("org-hook")).toBeUndefined();
    // A push that moves the branch back to sha(1) is another push: it is queued as the newest.
    expect((await store.recordDelivery(keyed("force-back", sha(1), sha(2)))).queued).toEqual([`etl-${sha(1).slice(0, 12)}`]);
  });

  it("commits many deliveries sent at once, and one that cannot be written fails alone", async () => {
    const { store } = open();
    const broken = push("d-broken", sha(999));
    // A release without a pipeline breaks a NOT NULL constraint inside the shared transaction.
    (broken.releases[0]?.release as { pipeline: string | null }).pipeline = null;
    const inputs = Array.from({ length: 200 }, (_, i) => push(`d-${i}`, sha(i)));
    const results = await Promise.allSettled([...inputs.slice(0, 100).map((input) => store.recordDelivery(input)), store.recordDelivery(broken), ...inputs.slice(100).map((input) => store.recordDelivery(input))]);
    const rejected = results.filter((r) => r.status === "rejected");
    expect(rejected).toHaveLength(1);
    expect(String((rejected[0] as PromiseRejectedResult).reason)).toMatch(/Could not record the delivery: NOT NULL constraint failed: releases\.pipeline/);
    expect(store.releases.countByStatus()).toEqual({ queued: 200 });
    expect(store.deliveries.get("d-broken")).toBeUndefined();
  });

  it("has every recorded delivery in the file once the store is closed", async () => {
    const { store, path } = open();
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.recordDelivery(push(`d-${i}`, sha(i)))));
    await closeAndSettle();
    const check = new DatabaseConstructor(path, { readonly: true });
    try {
      expect(check.prepare("SELECT COUNT(*) FROM deliveries").pluck().get()).toBe(50);
      expect(check.prepare("SELECT COUNT(*) FROM releases WHERE status = 'queued'").pluck().get()).toBe(50);
    } finally {
      check.close();
    }
  });

  it("moves what was recorded from the WAL into the database file on its own, while the store stays open", async () => {
    const { store, path } = open();
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.recordDelivery(push(`d-${i}`, sha(i)))));
    // A copy of the database file alone, without its WAL, holds only what was checkpointed.
    const inDatabaseFile = (): number => {
      const copy = join(dir ?? "", `copy-${Date.now()}.sqlite`);
      copyFileSync(path, copy);
      const check = new DatabaseConstructor(copy, { readonly: true });
      try {
        // Until the first checkpoint even the tables are only in the WAL.
        const table = check.prepare("SELECT 1 FROM sqlite_master WHERE name = 'deliveries'").get();
        return table === undefined ? 0 : (check.prepare("SELECT COUNT(*) FROM deliveries").pluck().get() as number);
      } finally {
        check.close();
      }
    };
    const deadline = Date.now() + 5_000;
    while (inDatabaseFile() < 50 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(inDatabaseFile()).toBe(50);
  });

  it("refuses an in-memory store, which the writer thread could not share", () => {
    expect(() => openStore(":memory:")).toThrow(/Could not open the store :memory:: the store must be a file/);
  });

  it("reports a writer thread that dies once, and fails every record after it with a clear error", async () => {
    dir ??= mkdtempSync(join(tmpdir(), "batchship-store-"));
    const failures: Error[] = [];
    // A folder where the database file should be: the thread cannot open it and dies.
    const writer = startIngestWriter({ path: dir, sync: "full" }, (error) => failures.push(error));
    await expect(writer.record(push("d-1", sha(1)))).rejects.toMatchObject({ code: "ENVIRONMENT", message: expect.stringMatching(/^Could not record the delivery: the store's writer stopped/) });
    await expect(writer.record(push("d-2", sha(2)))).rejects.toMatchObject({ code: "ENVIRONMENT" });
    expect(writer.alive()).toBe(false);
    expect(failures).toHaveLength(1);
    await writer.close();
  });
});
