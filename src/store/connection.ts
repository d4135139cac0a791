import DatabaseConstructor, { type Database } from "better-sqlite3";

export type StoreSync = "full" | "normal";

/**
 * One connection to the store's file: WAL, so the writer thread and the service's own
 * connection never block each other's reads; a busy timeout, so a write waits for the other
 * thread's commit instead of failing; and a page cache large enough that a busy ingest does not
 * read its own index pages back from the OS on every insert.
 *
 * WAL checkpoints (which sync the database file) are the writer thread's job, never the
 * service thread's. The writer lets the WAL grow to 10,000 pages (40 MB) first: a checkpoint
 * costs two fsyncs and writes each changed page once, however often it changed, and at the
 * default of 1,000 pages checkpoints were about 40 % of the writer's time under load.
 */
export function openConnection(path: string, sync: StoreSync, role: "writer" | "service"): Database {
  const db = new DatabaseConstructor(path);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${sync === "normal" ? "NORMAL" : "FULL"}`);
  db.pragma("busy_timeout = 5000");
  db.pragma("cache_size = -32768");
  db.pragma(`wal_autocheckpoint = ${role === "writer" ? WRITER_CHECKPOINT_PAGES : 0}`);
  return db;
}

export const WRITER_CHECKPOINT_PAGES = 10_000;
