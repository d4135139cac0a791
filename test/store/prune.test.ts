import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStore, type DeliveryToRecord, type Store } from "../../src/store/index.js";

let store: Store | undefined;
let dir: string | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const DAY = 24 * 60 * 60 * 1000;

function push(deliveryId: string, commit: string, receivedAt: number): DeliveryToRecord {
  const release = { id: `etl-${commit.slice(0, 12)}`, pipeline: "etl", repository: "acme/app", commit, branch: "main", cloneUrl: "https://github.com/acme/app.git", specJson: "{}" };
  return {
    delivery: { id: deliveryId, event: "push", receivedAt, outcome: "accepted", httpStatus: 202, repository: "acme/app", ref: "refs/heads/main", after: commit },
    releases: [{ release, queuedStatus: { releaseId: release.id, repository: "acme/app", commit, context: "batchship/etl", state: "pending", description: "queued", targetUrl: "http://service/x" } }],
    reconciles: [],
  };
}

describe("pruning the store by age", () => {
  it("deletes old deliveries, old events of finished releases and old sent statuses; keeps releases and anything pending", async () => {
    dir = mkdtempSync(join(tmpdir(), "batchship-prune-"));
    store = openStore(join(dir, "batchship.sqlite"));
    const now = 100 * DAY;
    const oldId = (await store.recordDelivery(push("d-old", "a".repeat(40), now - 40 * DAY))).queued[0] ?? "";
    const newId = (await store.recordDelivery(push("d-new", "b".repeat(40), now - DAY))).queued[0] ?? "";
    store.stageEvents.append(oldId, now - 40 * DAY, { type: "stage-started", stage: "build" });
    store.stageEvents.append(newId, now - DAY, { type: "stage-started", stage: "build" });
    store.releases.finish(oldId, { status: "failed" }, now - 40 * DAY);
    // Both queued statuses were sent: one long ago, one yesterday.
    for (const report of store.statusReports.takeDue(now, 10)) store.statusReports.markSent(report.id, report.releaseId === oldId ? now - 40 * DAY : now - DAY);

    const pruned = store.prune(now - 30 * DAY);
    expect(pruned).toEqual({ deliveries: 1, stageEvents: 1, statusReports: 1, reconciles: 0 });
    expect(store.deliveries.get("d-old")).toBeUndefined();
    expect(store.deliveries.get("d-new")).toBeDefined();
    // The release stays, without its old events; the unfinished release keeps every event.
    expect(store.releases.get(oldId)?.status).toBe("failed");
    expect(store.stageEvents.list(oldId)).toEqual([]);
    expect(store.stageEvents.list(newId)).toHaveLength(1);
    // Nothing left to prune: a second pass deletes nothing.
    expect(store.prune(now - 30 * DAY)).toEqual({ deliveries: 0, stageEvents: 0, statusReports: 0, reconciles: 0 });
  });
});
