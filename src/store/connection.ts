import DatabaseConstructor, { type Database } from "better-sqlite3";

export type StoreSync = "full" | "normal";

/**
 * One connection to the store's file: WAL, so the threads' connections never block each other's
 * reads; a busy timeout, so a write waits for another thread's commit instead of failing; and a
 * page cache large enough that a busy ingest does not read its own index pages back from the OS
 * on every insert.
 *
 * WAL checkpoints (which sync the database file) are the checkpointer thread's job
 * (checkpoint-worker.ts): neither the delivery writer nor the service's thread stops for one.
 * Only should the WAL outgrow 25,000 pages (100 MB), because the checkpointer could not keep
 * up, does the writer checkpoint it itself; once the WAL starts over, its file is cut back to
 * 64 MB.
 */
export function openConnection(path: string, sync: StoreSync, role: "writer" | "service" | "checkpointer"): Database {
  const db = new DatabaseConstructor(path);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${sync === "normal" ? "NORMAL" : "FULL"}`);
  db.pragma("busy_timeout = 5000");
  db.pragma("cache_size = -32768");
  db.pragma(`wal_autocheckpoint = ${role === "writer" ? WRITER_CHECKPOINT_PAGES : 0}`);
  db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  return db;
}

export const WRITER_CHECKPOINT_PAGES = 25_000;
