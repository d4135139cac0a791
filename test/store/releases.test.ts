import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import DatabaseConstructor, { type Database } from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { migrate } from "../../src/store/migrations.js";
import { createPipelineHolds, type PipelineHolds } from "../../src/store/pipeline-holds.js";
import { createReleaseTable, type ReleaseTable } from "../../src/store/releases.js";
import type { NewRelease } from "../../src/store/types.js";
import { newRelease } from "../support/new-release.js";

let dir: string;
let file: string;
let db: Database;
let releases: ReleaseTable;
let holds: PipelineHolds;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "batchship-releases-"));
  file = join(dir, "store.db");
  db = new DatabaseConstructor(file);
  db.pragma("journal_mode = WAL");
  migrate(db);
  holds = createPipelineHolds(db);
  releases = createReleaseTable(db, holds);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A push of `label` to `pipeline`, as a webhook delivery queues it. */
const push = (pipeline: string, label: string, deliveryId = `delivery-${label}`): NewRelease => newRelease(pipeline, label, deliveryId);

/** Queues the pushes in order (each must be new) and returns them. */
function queue(now: number, ...pushes: NewRelease[]): NewRelease[] {
  for (const release of pushes) expect(releases.enqueue(release, now)).toBe(true);
  return pushes;
}

/** Claims until nothing is claimable; the ids in claim order. */
function claimAll(now: number): string[] {
  const ids: string[] = [];
  for (let claim = releases.claimNext(now); claim !== undefined; claim = releases.claimNext(now)) ids.push(claim.release.id);
  return ids;
}

describe("the release queue", () => {
  it("a claim takes the newest queued release of a pipeline and supersedes the older queued ones", () => {
    const [a1, a2, a3] = queue(1, push("api", "a1"), push("api", "a2"), push("api", "a3"));
    const claim = releases.claimNext(10);

    expect(claim?.release).toMatchObject({ id: a3?.id, status: "running", attempts: 1, startedAt: 10, supersededBy: null });
    expect(claim?.superseded.map((r) => [r.id, r.status, r.supersededBy])).toEqual([
      [a1?.id, "superseded", a3?.id],
      [a2?.id, "superseded", a3?.id],
    ]);
    for (const old of [a1, a2]) {
      expect(releases.get(old?.id ?? "")).toMatchObject({ status: "superseded", supersededBy: a3?.id, startedAt: null, finishedAt: 10 });
    }
    expect(releases.claimNext(11)).toBeUndefined();
  });

  it("one release at a time per pipeline: a running release holds back its own pipeline, not the others", () => {
    const [a1] = queue(1, push("api", "a1"));
    expect(releases.claimNext(2)?.release.id).toBe(a1?.id);
    const [a2, b1] = queue(3, push("api", "a2"), push("batch", "b1"));

    expect(releases.claimNext(4)?.release.id).toBe(b1?.id);
    expect(releases.claimNext(5)).toBeUndefined();
    expect(releases.get(a2?.id ?? "")?.status).toBe("queued");

    releases.finish(a1?.id ?? "", { status: "promoted" }, 6);
    expect(releases.claimNext(7)).toMatchObject({ release: { id: a2?.id, status: "running" }, superseded: [] });
  });

  it("pipelines are served in order of their oldest waiting release, however new their newest one is", () => {
    const [, b1, a2, c1] = queue(1, push("api", "a1"), push("batch", "b1"), push("api", "a2"), push("cron", "c1"));
    // api waited longest (a1), so it goes first and runs a2, although b1 was queued before a2.
    expect(claimAll(2)).toEqual([a2?.id, b1?.id, c1?.id]);
  });

  it("a commit queued while its pipeline runs is not superseded by that claim and runs next", () => {
    const [a1, a2] = queue(1, push("api", "a1"), push("api", "a2"));
    expect(releases.claimNext(2)?.superseded.map((r) => r.id)).toEqual([a1?.id]);
    const [a3] = queue(3, push("api", "a3"));

    expect(releases.claimNext(4)).toBeUndefined();
    expect(releases.get(a3?.id ?? "")).toMatchObject({ status: "queued", supersededBy: null });

    releases.finish(a2?.id ?? "", { status: "failed", error: { code: "BUILD", message: "exit 1" } }, 5);
    expect(releases.claimNext(6)).toMatchObject({ release: { id: a3?.id }, superseded: [] });
    expect(releases.get(a2?.id ?? "")).toMatchObject({ status: "failed", supersededBy: null, error: { code: "BUILD" } });
  });

  it("a commit pushed again while queued moves to the end of the queue; one running or finished is refused and changes nothing", () => {
    const [a1, b1, b2] = queue(1, push("api", "a1"), push("batch", "b1"), push("batch", "b2"));
    expect(releases.enqueue(push("batch", "b1", "force-back"), 2)).toBe(true);
    expect(releases.get(b1?.id ?? "")).toMatchObject({ status: "queued", seq: 4, deliveryId: "force-back", updatedAt: 2 });
    const rollback = holds.tryHoldForApi("api", "a rollback through the API is in flight");
    expect(releases.claimNext(2)).toMatchObject({ release: { id: b1?.id }, superseded: [{ id: b2?.id, supersededBy: b1?.id }] });
    if ("lease" in rollback) rollback.lease.release();

    releases.claimNext(3);
    expect(releases.enqueue(push("api", "a1", "redelivery-2"), 4)).toBe(false);
    expect(releases.get(a1?.id ?? "")).toMatchObject({ status: "running", seq: 1, attempts: 1, deliveryId: "delivery-a1" });

    releases.finish(a1?.id ?? "", { status: "awaiting-promotion" }, 5);
    expect(releases.enqueue(push("api", "a1", "redelivery-3"), 6)).toBe(false);
    expect(releases.get(a1?.id ?? "")).toMatchObject({ status: "awaiting-promotion", seq: 1, finishedAt: 5 });
  });

  it("names the clone URLs of releases not over yet, whose mirrors retention keeps", () => {
    const at = (release: NewRelease, host: string): NewRelease => ({ ...release, cloneUrl: `https://${host}/acme/${release.pipeline}.git` });
    const [, a2, b1, c1] = queue(1, at(push("api", "a1"), "superseded.example"), at(push("api", "a2"), "running.example"), at(push("batch", "b1"), "awaiting.example"), at(push("etl", "c1"), "done.example"));
    expect(new Set(releases.openCloneUrls()).size).toBe(4);
    expect(claimAll(2)).toEqual([a2?.id, b1?.id, c1?.id]);
    releases.finish(c1?.id ?? "", { status: "promoted" }, 3);
    releases.finish(b1?.id ?? "", { status: "awaiting-promotion" }, 3);
    expect(new Set(releases.openCloneUrls())).toEqual(new Set(["https://running.example/acme/api.git", "https://awaiting.example/acme/batch.git"]));
  });

  it("a superseded commit pushed again is queued again, as the newest release of its pipeline", () => {
    const [a1, a2] = queue(1, push("api", "a1"), push("api", "a2"));
    releases.claimNext(2);
    expect(releases.enqueue(push("api", "a1", "delivery-again"), 3)).toBe(true);

    expect(releases.get(a1?.id ?? "")).toMatchObject({
      status: "queued",
      supersededBy: null,
      seq: 3,
      deliveryId: "delivery-again",
      startedAt: null,
      finishedAt: null,
      updatedAt: 3,
    });
    releases.finish(a2?.id ?? "", { status: "promoted" }, 4);
    expect(releases.claimNext(5)).toMatchObject({ release: { id: a1?.id, status: "running", attempts: 1, finishedAt: null }, superseded: [] });
  });

  it("a resume counts one more attempt and keeps when the release first started", () => {
    const [a1] = queue(1, push("api", "a1"));
    releases.claimNext(10);
    releases.setStage(a1?.id ?? "", "canary", 11);

    expect(releases.resume(a1?.id ?? "", 20)).toMatchObject({ status: "running", stage: "canary", attempts: 2, startedAt: 10, updatedAt: 20 });
    expect(releases.resume(a1?.id ?? "", 30)).toMatchObject({ attempts: 3, startedAt: 10 });
    expect(releases.resume("api-unknown", 40)).toBeUndefined();
  });

  it("listRunning lists the running releases in queue order, not claim order", () => {
    const [a1, b1, a2] = queue(1, push("api", "a1"), push("batch", "b1"), push("api", "a2"));
    expect(claimAll(2)).toEqual([a2?.id, b1?.id]);
    expect(releases.listRunning().map((r) => r.id)).toEqual([b1?.id, a2?.id]);
    expect(releases.get(a1?.id ?? "")?.status).toBe("superseded");
  });

  describe("a claim is one transaction", () => {
    let reader: Database;
    beforeEach(() => {
      reader = new DatabaseConstructor(file, { readonly: true });
    });
    afterEach(() => reader.close());

    /** The queue as another connection (another process) sees it. */
    const seen = (): string[] =>
      (reader.prepare("SELECT id, status FROM releases ORDER BY seq").all() as Array<{ id: string; status: string }>).map((r) => `${r.id} ${r.status}`);

    it("another connection sees the whole claim or nothing of it, never the claimed release running beside queued older ones", () => {
      const [a1, a2, a3] = queue(1, push("api", "a1"), push("api", "a2"), push("api", "a3"));
      const before = seen();
      // Looks from the other connection after every row the claim changes, while it is still open.
      const midway: string[][] = [];
      db.function("look", () => {
        midway.push(seen());
        return null;
      });
      db.exec("CREATE TEMP TRIGGER look_on_claim AFTER UPDATE OF status ON releases BEGIN SELECT look(); END");

      releases.claimNext(10);
      expect(midway).toEqual([before, before, before]);
      expect(seen()).toEqual([`${a1?.id} superseded`, `${a2?.id} superseded`, `${a3?.id} running`]);
    });

    it("a claim that fails after superseding leaves every release queued", () => {
      const [, , a3] = queue(1, push("api", "a1"), push("api", "a2"), push("api", "a3"));
      const before = seen();
      // Fails the claim's last step, after the older releases were marked superseded.
      db.exec(`CREATE TEMP TRIGGER fail_start BEFORE UPDATE OF status ON releases WHEN NEW.status = 'running'
        BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`);

      expect(() => releases.claimNext(10)).toThrow(/disk I\/O error/);
      expect(seen()).toEqual(before);
      expect(releases.countByStatus()).toEqual({ queued: 3 });

      db.exec("DROP TRIGGER fail_start");
      expect(releases.claimNext(11)?.release.id).toBe(a3?.id);
    });
  });

  it("countByStatus counts the releases in each state", () => {
    expect(releases.countByStatus()).toEqual({});
    const [, , b1] = queue(1, push("api", "a1"), push("api", "a2"), push("batch", "b1"), push("cron", "c1"));
    expect(releases.countByStatus()).toEqual({ queued: 4 });

    releases.claimNext(2);
    releases.claimNext(3);
    releases.finish(b1?.id ?? "", { status: "promoted" }, 4);
    expect(releases.countByStatus()).toEqual({ queued: 1, running: 1, superseded: 1, promoted: 1 });
  });
});
