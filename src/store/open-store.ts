import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import DatabaseConstructor, { type Database } from "better-sqlite3";
import { BatchshipError } from "../errors.js";
import { createDeliveryTable, type DeliveryTable } from "./deliveries.js";
import { createGroupCommit, type GroupCommit } from "./group-commit.js";
import { migrate } from "./migrations.js";
import { createReconcileTable, type ReconcileTable } from "./reconciles.js";
import { createReleaseTable, type ReleaseTable } from "./releases.js";
import { createStageEventTable, type StageEventTable } from "./stage-events.js";
import { createStatusReportTable, type StatusReportTable } from "./status-reports.js";

/** The service's durable state: one SQLite file in WAL mode, written by this process only. */
export interface Store {
  deliveries: DeliveryTable;
  releases: ReleaseTable;
  stageEvents: StageEventTable;
  statusReports: StatusReportTable;
  reconciles: ReconcileTable;
  /** Runs `unit` in a transaction shared with the other units waiting for a commit; resolves once committed (and, with sync full, fsynced). */
  commit: GroupCommit["run"];
  /** Runs `unit` in its own transaction, now. */
  transaction<T>(unit: () => T): T;
  /** Whether a write could be committed now (the write lock can be taken). */
  isWritable(): boolean;
  close(): void;
}

export type StoreSync = "full" | "normal";

/**
 * `sync` "full" (default): every commit is fsynced before the 202 goes out, so a delivery
 * survives a power cut. "normal": WAL commits are not fsynced one by one; a crash of the
 * process (kill -9) still loses nothing, a crash of the machine may lose the last commits.
 */
export function openStore(path: string, options: { sync?: StoreSync } = {}): Store {
  let db: Database;
  try {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    db = new DatabaseConstructor(path);
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${options.sync === "normal" ? "NORMAL" : "FULL"}`);
    db.pragma("busy_timeout = 5000");
    migrate(db);
  } catch (error) {
    throw new BatchshipError("ENVIRONMENT", `Could not open the store ${path}: ${error instanceof Error ? error.message : String(error)}`, {
      hint: "--data-dir must be a writable folder on a local disk (SQLite WAL does not work on network file systems)",
      cause: error,
    });
  }
  // synchronous=FULL: group commits sync the WAL themselves, off the event loop (see group-commit.ts).
  const group = createGroupCommit(db, options.sync === "normal" || path === ":memory:" ? {} : { walPath: `${resolve(path)}-wal` });
  return {
    deliveries: createDeliveryTable(db),
    releases: createReleaseTable(db),
    stageEvents: createStageEventTable(db),
    statusReports: createStatusReportTable(db),
    reconciles: createReconcileTable(db),
    commit: (unit) => group.run(unit),
    transaction: (unit) => db.transaction(unit).immediate(),
    isWritable() {
      try {
        db.exec("BEGIN IMMEDIATE");
        db.exec("ROLLBACK");
        return true;
      } catch {
        return false;
      }
    },
    close() {
      group.close();
      db.close();
    },
  };
}
