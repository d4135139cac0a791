import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/index.js";

let store: Store | undefined;
let dir: string | undefined;
afterEach(async () => {
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the store's reconcile jobs", () => {
  it("keeps one queued job per pipeline, waits for busy pipelines, and requeues what a stopped process left running", () => {
    dir = mkdtempSync(join(tmpdir(), "batchship-reconciles-"));
    store = openStore(join(dir, "batchship.sqlite"));
    const { reconciles } = store;
    const first = reconciles.enqueue({ pipeline: "etl", specJson: "{\"v\":1}", deliveryId: "d1" }, 10);
    expect(reconciles.enqueue({ pipeline: "etl", specJson: "{\"v\":2}", deliveryId: "d2" }, 11)).toBe(first);
    reconciles.enqueue({ pipeline: "api", specJson: "{}", deliveryId: "d3" }, 12);

    const promotion = store.holds.tryHoldForApi("etl", "release etl-1 is being promoted through the API");
    expect(reconciles.claimNext(20)).toMatchObject({ pipeline: "api", attempts: 1 });
    if ("lease" in promotion) promotion.lease.release();
    const etl = reconciles.claimNext(20);
    expect(etl).toMatchObject({ pipeline: "etl", specJson: "{\"v\":2}", deliveryId: "d2", status: "running" });
    // A push while it runs queues another: the running one may have read an older tip.
    expect(reconciles.enqueue({ pipeline: "etl", specJson: "{\"v\":3}", deliveryId: "d4" }, 21)).not.toBe(first);
    expect(reconciles.claimNext(22)).toBeUndefined();

    expect(reconciles.requeueRunning(30)).toBe(2);
    expect(reconciles.pendingCount()).toBe(3);
    const again = reconciles.claimNext(30);
    expect(again?.pipeline).toBe("etl");
    // One reconcile per pipeline at a time.
    const other = reconciles.claimNext(30);
    expect(other?.pipeline).toBe("api");
    const none = { id: 0, attempts: 0 };
    expect(reconciles.markDone(other ?? none, "{}", 31)).toBe(true);
    expect(reconciles.retryLater(again ?? none, "AWS throttled", 100)).toBe(true);
    const last = reconciles.claimNext(40);
    expect(last).toMatchObject({ pipeline: "etl" });
    expect(last?.id).not.toBe(again?.id);
    expect(reconciles.markFailed(last ?? none, "spec", 41)).toBe(true);
    expect(reconciles.claimNext(99)).toBeUndefined();
    const rerun = reconciles.claimNext(100);
    expect(rerun).toMatchObject({ id: again?.id, attempts: 2 });

    // An end written again (a write that failed after taking effect) changes nothing: the job is
    // queued and claimed again meanwhile, and the older run's end does not put it back to queued.
    expect(reconciles.retryLater(again ?? none, "AWS throttled", 500)).toBe(false);
    expect(reconciles.markDone(again ?? none, "{}", 101)).toBe(false);
    expect(reconciles.get(again?.id ?? 0)).toMatchObject({ status: "running", attempts: 2, resultJson: null });
    expect(reconciles.markDone(rerun ?? none, "{\"action\":\"in-sync\"}", 102)).toBe(true);
    expect(reconciles.get(again?.id ?? 0)).toMatchObject({ status: "done", finishedAt: 102, resultJson: "{\"action\":\"in-sync\"}", lastError: null });
  });

  it("counts a queued job's attempts afresh when a new push refreshes it", () => {
    dir = mkdtempSync(join(tmpdir(), "batchship-reconciles-"));
    store = openStore(join(dir, "batchship.sqlite"));
    const { reconciles } = store;
    const id = reconciles.enqueue({ pipeline: "etl", specJson: "{}", deliveryId: "d1" }, 10);
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(reconciles.claimNext(10 + attempt * 100)).toMatchObject({ id, attempts: attempt });
      reconciles.retryLater({ id, attempts: attempt }, "AWS throttled", 10 + (attempt + 1) * 100);
    }
    // The new push's reconcile is due now and starts at its first attempt, not its fourth.
    expect(reconciles.enqueue({ pipeline: "etl", specJson: "{\"v\":2}", deliveryId: "d2" }, 350)).toBe(id);
    expect(reconciles.claimNext(350)).toMatchObject({ id, attempts: 1, deliveryId: "d2" });
  });
});
