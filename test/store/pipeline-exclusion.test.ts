import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type NewRelease, type Store } from "../../src/store/index.js";
import { newRelease } from "../support/new-release.js";

let dir: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "batchship-exclusion-"));
  store = openStore(join(dir, "batchship.sqlite"));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const release = (pipeline: string, n: number): NewRelease => newRelease(pipeline, String(n));

describe("releases and reconciles of one pipeline never run at once", () => {
  it("a release is not claimed while its pipeline's reconcile runs, and is once it ends", () => {
    store.reconciles.enqueue({ pipeline: "etl", specJson: "{}", deliveryId: "r1" }, 1);
    const reconcile = store.reconciles.claimNext(2, new Set());
    expect(reconcile).toMatchObject({ pipeline: "etl", status: "running" });
    store.releases.enqueue(release("etl", 1), 3);
    store.releases.enqueue(release("api", 2), 4);

    // etl waited longer, but its reconcile is running: api goes first, etl waits.
    expect(store.releases.claimNext(5)?.release.pipeline).toBe("api");
    expect(store.releases.claimNext(5)).toBeUndefined();
    store.reconciles.markDone(reconcile?.id ?? 0, "{}", 6);
    expect(store.releases.claimNext(7)?.release).toMatchObject({ pipeline: "etl", status: "running" });
  });

  it("a reconcile is not claimed while a release of its pipeline runs, whatever the caller passes as busy", () => {
    store.releases.enqueue(release("etl", 1), 1);
    const claimed = store.releases.claimNext(2);
    store.reconciles.enqueue({ pipeline: "etl", specJson: "{}", deliveryId: "r1" }, 3);
    expect(store.reconciles.claimNext(4, new Set())).toBeUndefined();
    store.releases.finish(claimed?.release.id ?? "", { status: "promoted" }, 5);
    expect(store.reconciles.claimNext(6, new Set())).toMatchObject({ pipeline: "etl", status: "running" });
  });

  it("a claim skips the pipelines the caller holds (a promotion or rollback through the API)", () => {
    store.releases.enqueue(release("etl", 1), 1);
    store.releases.enqueue(release("api", 2), 2);
    expect(store.releases.claimNext(3, new Set(["etl", "api"]))).toBeUndefined();
    expect(store.releases.claimNext(3, new Set(["etl"]))?.release.pipeline).toBe("api");
    expect(store.releases.claimNext(3, new Set())?.release.pipeline).toBe("etl");
  });
});

describe("a promotion through the API", () => {
  function awaiting(pipeline: string, n: number): string {
    store.releases.enqueue(release(pipeline, n), n);
    const claimed = store.releases.claimNext(n);
    const id = claimed?.release.id ?? "";
    store.releases.finish(id, { status: "awaiting-promotion" }, n);
    return id;
  }

  it("takes a release out of awaiting-promotion once: a second caller is refused until the first gives up", () => {
    const id = awaiting("etl", 1);
    expect(store.releases.beginPromotion(id, 10)).toBe(true);
    expect(store.releases.get(id)).toMatchObject({ status: "promoting", updatedAt: 10 });
    expect(store.releases.beginPromotion(id, 11)).toBe(false);

    store.releases.abandonPromotion(id, 12);
    expect(store.releases.get(id)?.status).toBe("awaiting-promotion");
    expect(store.releases.beginPromotion(id, 13)).toBe(true);
    store.releases.finish(id, { status: "promoted", production: { arn: "arn:etl:1", revision: 1 } }, 14);
    expect(store.releases.beginPromotion(id, 15)).toBe(false);
    // Giving up after the promotion was recorded changes nothing.
    store.releases.abandonPromotion(id, 16);
    expect(store.releases.get(id)).toMatchObject({ status: "promoted", production: { revision: 1 } });
  });

  it("only from awaiting-promotion", () => {
    store.releases.enqueue(release("etl", 1), 1);
    const running = store.releases.claimNext(2)?.release.id ?? "";
    expect(store.releases.beginPromotion(running, 3)).toBe(false);
    store.releases.finish(running, { status: "failed" }, 4);
    expect(store.releases.beginPromotion(running, 5)).toBe(false);
    expect(store.releases.beginPromotion("nope", 5)).toBe(false);
  });

  it("left promoting by a stopped process is awaiting promotion again on the next start, and survives reopening the file", async () => {
    const a = awaiting("etl", 1);
    const b = awaiting("api", 2);
    expect(store.releases.beginPromotion(a, 10)).toBe(true);
    expect(store.releases.beginPromotion(b, 10)).toBe(true);
    store.releases.finish(b, { status: "promoted", production: { arn: "arn:api:1", revision: 1 } }, 11);
    await store.close();

    store = openStore(join(dir, "batchship.sqlite"));
    expect(store.releases.get(a)?.status).toBe("promoting");
    expect(store.releases.abandonPromotions(20)).toBe(1);
    expect(store.releases.get(a)).toMatchObject({ status: "awaiting-promotion", updatedAt: 20 });
    expect(store.releases.get(b)?.status).toBe("promoted");
  });
});
