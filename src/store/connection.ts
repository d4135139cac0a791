import DatabaseConstructor, { type Database } from "better-sqlite3";

export type StoreSync = "full" | "normal";

/**
 * One connection to the store's file, set up alike on every thread: WAL, so the writer thread
 * and the service's own connection never block each other's reads; a busy timeout, so a write
 * waits for the other thread's commit instead of failing; and a page cache large enough that a
 * busy ingest does not read its own index pages back from the OS on every insert.
 */
export function openConnection(path: string, sync: StoreSync): Database {
  const db = new DatabaseConstructor(path);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${sync === "normal" ? "NORMAL" : "FULL"}`);
  db.pragma("busy_timeout = 5000");
  db.pragma("cache_size = -32768");
  return db;
}
