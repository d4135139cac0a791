/**
 * The store's WAL checkpointer, on a thread of its own (see ingest-writer.ts): it copies what the
 * WAL holds into the database file every moment, so neither the delivery writer nor the
 * service's thread ever stops for a checkpoint. Passive: it never waits for a writer.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openConnection } from "./connection.js";
import type { IngestWorkerData } from "./ingest-worker.js";

const CHECKPOINT_EVERY_MS = 50;

const port = parentPort;
if (port === null) throw new Error("checkpoint-worker.js runs as a worker thread of the service");
const { path, sync } = workerData as IngestWorkerData;
const db = openConnection(path, sync, "checkpointer");
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch {
    // Busy or closing: the next tick does it.
  }
}, CHECKPOINT_EVERY_MS);

port.on("message", () => {
  clearInterval(timer);
  try {
    db.close();
  } finally {
    port.close();
  }
});
