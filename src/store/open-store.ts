import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Database } from "better-sqlite3";
import { BatchshipError } from "../errors.js";
import { createBranchHeadTable, type BranchHeadTable } from "./branch-heads.js";
import { openConnection, type StoreSync } from "./connection.js";
import { createDeliveryTable, type DeliveryTable } from "./deliveries.js";
import { createGroupCommit } from "./group-commit.js";
import { startIngestWriter, type StartThread } from "./ingest-writer.js";
import { migrate } from "./migrations.js";
import { createPipelineHolds, type PipelineHolds } from "./pipeline-holds.js";
import { createPrune, type Pruned } from "./prune.js";
import { createReconcileTable, type ReconcileTable } from "./reconciles.js";
import type { DeliveryToRecord, RecordedDelivery } from "./record-delivery.js";
import { createReleaseTable, type ReleaseTable } from "./releases.js";
import { createRevisionHintTable, type RevisionHintTable } from "./revision-hints.js";
import { createStageEventTable, type StageEventTable } from "./stage-events.js";
import { createStatusReportTable, type StatusReportTable } from "./status-reports.js";

/**
 * The service's durable state: one SQLite file in WAL mode, written by this process only, from
 * two threads: deliveries by the writer thread (ingest-writer.ts), everything else here.
 */
export interface Store {
  deliveries: DeliveryTable;
  releases: ReleaseTable;
  stageEvents: StageEventTable;
  statusReports: StatusReportTable;
  reconciles: ReconcileTable;
  /** Who holds each pipeline: the rule that keeps releases, reconciles and the API's promotions apart. */
  holds: PipelineHolds;
  /** What the catch-up controller last saw of each pipeline's branches. */
  branchHeads: BranchHeadTable;
  /** The newest revision number of each job definition name, for the AWS backend's first lookups after a restart. */
  revisionHints: RevisionHintTable;
  /** Records a verified delivery and what it queues; resolves once committed (and, with sync full, fsynced). */
  recordDelivery(input: DeliveryToRecord): Promise<RecordedDelivery>;
  /** Runs `unit` in its own transaction, now. */
  transaction<T>(unit: () => T): T;
  /**
   * Runs `unit` at the end of this turn of the event loop, in one transaction with every other
   * unit queued meanwhile: one commit (and, with sync full, one fsync) for the bookkeeping of
   * many releases at once. Resolves once committed; a failing unit alone is undone. Units run in
   * the order they were queued; a `transaction` in between commits before them.
   */
  batched<T>(unit: () => T): Promise<T>;
  /**
   * What is known of the store's threads, without waiting: the writer runs, the checkpointer
   * runs, and whether the writer could last take the write lock (asked on its own thread, at
   * most once a second; the first answer is optimistic until asked).
   */
  health(): StoreHealth;
  /** Deletes what is older than `cutoff` and done with (prune.ts). */
  prune(cutoff: number): Pruned;
  /** Closes the service's connection now; resolves once the writer thread has committed what it was sent and both threads have exited. */
  close(): Promise<void>;
}

export type { StoreSync };

export interface StoreHealth {
  writer: boolean;
  writable: boolean;
  checkpointer: boolean;
}

const PROBE_EVERY_MS = 1_000;

/**
 * `sync` "full" (default): every commit is fsynced before the 202 goes out, so a delivery
 * survives a power cut. "normal": WAL commits are not fsynced one by one; a crash of the
 * process (kill -9) still loses nothing, a crash of the machine may lose the last commits.
 */
export function openStore(
  path: string,
  options: {
    sync?: StoreSync;
    onWriterFailure?: (error: BatchshipError) => void;
    onCheckpointerFailure?: (error: BatchshipError) => void;
    /** How the store's threads are started (default: its own worker files). */
    startThread?: StartThread;
  } = {},
): Store {
  const sync = options.sync ?? "full";
  let db: Database;
  try {
    // Two threads share the store through its file; an in-memory database would be two databases.
    if (path === ":memory:") throw new Error("the store must be a file");
    mkdirSync(dirname(path), { recursive: true });
    db = openConnection(path, sync, "service");
    migrate(db);
  } catch (error) {
    throw new BatchshipError("ENVIRONMENT", `Could not open the store ${path}: ${error instanceof Error ? error.message : String(error)}`, {
      hint: "--data-dir must be a writable folder on a local disk (SQLite WAL does not work on network file systems)",
      cause: error,
    });
  }
  // Started after the migrations, so the writer finds the schema it prepares statements for.
  const writer = startIngestWriter({ path: resolve(path), sync }, options.onWriterFailure, options.onCheckpointerFailure, options.startThread);
  let writable = true;
  let probedAt = -Infinity;
  const holds = createPipelineHolds(db);
  const group = createGroupCommit(db);
  return {
    deliveries: createDeliveryTable(db),
    releases: createReleaseTable(db, holds),
    stageEvents: createStageEventTable(db),
    statusReports: createStatusReportTable(db),
    reconciles: createReconcileTable(db, holds),
    holds,
    branchHeads: createBranchHeadTable(db),
    revisionHints: createRevisionHintTable(db, (unit) => group.run(unit)),
    recordDelivery: (input) => writer.record(input),
    transaction: (unit) => db.transaction(unit).immediate(),
    batched: (unit) => group.run(unit),
    prune: createPrune(db),
    health() {
      const now = performance.now();
      if (now - probedAt >= PROBE_EVERY_MS) {
        probedAt = now;
        void writer.probeWritable().then((answer) => (writable = answer));
      }
      return { writer: writer.alive(), writable: writer.alive() && writable, checkpointer: writer.checkpointing() };
    },
    async close() {
      // What was queued this turn is committed first: it is queued before this empty unit.
      await group.run(() => undefined).catch(() => undefined);
      db.close();
      return writer.close();
    },
  };
}
