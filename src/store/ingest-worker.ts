/**
 * The store's delivery writer, on its own thread (see ingest-writer.ts). It owns a connection
 * to the store's file and commits what the service's thread sends, by group commit: what
 * arrives while one commit (and its fsync) blocks this thread is the next batch. It only
 * touches the database; it never logs.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openConnection, type StoreSync } from "./connection.js";
import { createDeliveryTable } from "./deliveries.js";
import { createGroupCommit } from "./group-commit.js";
import { createPipelineHolds } from "./pipeline-holds.js";
import { createReconcileTable } from "./reconciles.js";
import { recordDelivery, type DeliveryToRecord } from "./record-delivery.js";
import { createReleaseTable } from "./releases.js";
import { createStatusReportTable } from "./status-reports.js";

export interface IngestWorkerData {
  path: string;
  sync: StoreSync;
}

export type IngestRequest = { type: "record"; id: number; input: DeliveryToRecord } | { type: "probe"; id: number } | { type: "close" };

export type IngestReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: { message: string } };

const port = parentPort;
if (port === null) throw new Error("ingest-worker.js runs as a worker thread of the service");
const { path, sync } = workerData as IngestWorkerData;
const db = openConnection(path, sync, "writer");
// This thread only queues: it claims nothing, so nothing here takes a hold.
const holds = createPipelineHolds(db);
const tables = {
  deliveries: createDeliveryTable(db),
  releases: createReleaseTable(db, holds),
  statusReports: createStatusReportTable(db),
  reconciles: createReconcileTable(db, holds),
};
const group = createGroupCommit(db);

port.on("message", (request: IngestRequest) => {
  if (request.type === "close") {
    // Queued after every record sent before the close, so those are committed and answered first.
    void group.run(() => undefined).finally(() => {
      try {
        db.close();
      } finally {
        port.close();
      }
    });
    return;
  }
  if (request.type === "probe") {
    // Can a write be committed now: the write lock, taken and let go at once.
    let writable = false;
    try {
      db.exec("BEGIN IMMEDIATE");
      db.exec("ROLLBACK");
      writable = true;
    } catch {
      // Busy past the timeout, or the disk refuses: not writable.
    }
    port.postMessage({ id: request.id, ok: true, value: writable } satisfies IngestReply);
    return;
  }
  group.run(() => recordDelivery(tables, request.input)).then(
    (value) => port.postMessage({ id: request.id, ok: true, value } satisfies IngestReply),
    (error: unknown) => port.postMessage({ id: request.id, ok: false, error: { message: error instanceof Error ? error.message : String(error) } } satisfies IngestReply),
  );
});
