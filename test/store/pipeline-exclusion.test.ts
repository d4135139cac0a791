import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type NewRelease, type PipelineLease, type Store } from "../../src/store/index.js";
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
const leaseOf = (hold: { lease: PipelineLease } | { heldBy: string }): PipelineLease => {
  if (!("lease" in hold)) throw new Error(`held: ${hold.heldBy}`);
  return hold.lease;
};

describe("releases and reconciles of one pipeline never run at once", () => {
  it("a release is not claimed while its pipeline's reconcile runs, and is once it ends", () => {
    store.reconciles.enqueue({ pipeline: "etl", specJson: "{}", deliveryId: "r1" }, 1);
    const reconcile = store.reconciles.claimNext(2);
    expect(reconcile).toMatchObject({ pipeline: "etl", status: "running" });
    store.releases.enqueue(release("etl", 1), 3);
    store.releases.enqueue(release("api", 2), 4);

    // etl waited longer, but its reconcile is running: api goes first, etl waits.
    expect(store.releases.claimNext(5)?.release.pipeline).toBe("api");
    expect(store.releases.claimNext(5)).toBeUndefined();
    expect(store.reconciles.markDone(reconcile ?? { id: 0, attempts: 0 }, "{}", 6)).toBe(true);
    expect(store.releases.claimNext(7)?.release).toMatchObject({ pipeline: "etl", status: "running" });
  });

  it("a reconcile is not claimed while a release of its pipeline runs", () => {
    store.releases.enqueue(release("etl", 1), 1);
    const claimed = store.releases.claimNext(2);
    store.reconciles.enqueue({ pipeline: "etl", specJson: "{}", deliveryId: "r1" }, 3);
    expect(store.reconciles.claimNext(4)).toBeUndefined();
    store.releases.finish(claimed?.release.id ?? "", { status: "promoted" }, 5);
    expect(store.reconciles.claimNext(6)).toMatchObject({ pipeline: "etl", status: "running" });
  });

  it("a claim skips the pipelines held through the API (a promotion or rollback), until they are let go", () => {
    store.releases.enqueue(release("etl", 1), 1);
    store.releases.enqueue(release("api", 2), 2);
    const etl = leaseOf(store.holds.tryHoldForApi("etl", "a rollback through the API is in flight"));
    const api = leaseOf(store.holds.tryHoldForApi("api", "a rollback through the API is in flight"));
    expect(store.releases.claimNext(3)).toBeUndefined();
    api.release();
    expect(store.releases.claimNext(3)?.release.pipeline).toBe("api");
    etl.release();
    expect(store.releases.claimNext(3)?.release.pipeline).toBe("etl");
  });
});

describe("who holds a pipeline against a promotion or rollback through the API", () => {
  it("a release that promotes by itself and a reconcile do, each named; a release that leaves promotion to a person does not; one API holder at a time", () => {
    const manual = { ...release("etl", 1), specJson: JSON.stringify({ name: "etl", promotion: { mode: "manual" } }) };
    store.releases.enqueue(manual, 1);
    store.releases.enqueue(release("api", 2), 2);
    store.reconciles.enqueue({ pipeline: "batch", specJson: "{}", deliveryId: "r1" }, 3);
    const etl = store.releases.claimNext(4)?.release.id;
    const api = store.releases.claimNext(4)?.release.id;
    expect(store.reconciles.claimNext(4)).toMatchObject({ pipeline: "batch" });

    expect(store.holds.tryHoldForApi("api", "x")).toEqual({ heldBy: `release ${api} is running` });
    expect(store.holds.tryHoldForApi("batch", "x")).toEqual({ heldBy: "a reconcile is running" });
    const promotion = leaseOf(store.holds.tryHoldForApi("etl", `release ${etl} is being promoted through the API`));
    expect(store.holds.tryHoldForApi("etl", "a rollback through the API is in flight")).toEqual({ heldBy: `release ${etl} is being promoted through the API` });
    expect(store.holds.heldForApi()).toBe(1);

    // The manual release still holds its pipeline against the next release and a reconcile.
    store.releases.enqueue(release("etl", 3), 5);
    store.reconciles.enqueue({ pipeline: "etl", specJson: "{}", deliveryId: "r2" }, 5);
    expect(store.releases.claimNext(6)).toBeUndefined();
    expect(store.reconciles.claimNext(6)).toBeUndefined();

    // A lease let go twice never frees the next holder's.
    promotion.release();
    const rollback = leaseOf(store.holds.tryHoldForApi("etl", "a rollback through the API is in flight"));
    promotion.release();
    expect(store.holds.tryHoldForApi("etl", "x")).toEqual({ heldBy: "a rollback through the API is in flight" });
    rollback.release();
    expect(store.holds.heldForApi()).toBe(0);
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
