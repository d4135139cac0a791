import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { BatchshipError } from "../errors.js";

export type StateDb = Database.Database;

const SCHEMA_VERSION = 3;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS builds (
  id TEXT PRIMARY KEY,
  release_id TEXT NOT NULL,
  commit_sha TEXT NOT NULL,
  status TEXT NOT NULL,
  detail TEXT,
  current_phase TEXT,
  phases TEXT NOT NULL,
  log_path TEXT NOT NULL,
  started_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS job_definitions (
  name TEXT NOT NULL,
  revision INTEGER NOT NULL,
  arn TEXT NOT NULL UNIQUE,
  body TEXT NOT NULL,
  tags TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (name, revision)
);
CREATE TABLE IF NOT EXISTS jobs (
  job_id TEXT PRIMARY KEY,
  job_name TEXT NOT NULL,
  job_queue TEXT NOT NULL,
  definition_arn TEXT NOT NULL,
  array_size INTEGER,
  parameters TEXT NOT NULL,
  environment TEXT NOT NULL,
  tags TEXT NOT NULL,
  stop_reason TEXT,
  owner_pid INTEGER NOT NULL,
  owner_host TEXT NOT NULL,
  owner_token TEXT,
  created_at INTEGER NOT NULL,
  stopped_at INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_by_name ON jobs (job_queue, job_name);
CREATE TABLE IF NOT EXISTS children (
  job_id TEXT NOT NULL REFERENCES jobs (job_id),
  array_index INTEGER NOT NULL,
  status TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  status_reason TEXT,
  exit_code INTEGER,
  log_path TEXT,
  started_at INTEGER,
  stopped_at INTEGER,
  run_handle TEXT,
  PRIMARY KEY (job_id, array_index)
);
`;

/** Columns added after schema 1: a store that schema 1 created gets them on its next open. */
const ADDED_COLUMNS: ReadonlyArray<{ table: string; column: string; type: string }> = [
  // null in jobs that a batchship before schema 2 submitted: their owner is another process.
  { table: "jobs", column: "owner_token", type: "TEXT" },
  { table: "children", column: "run_handle", type: "TEXT" },
  // Schema 3: retention deregisters revisions; they stay, INACTIVE, as in Batch.
  { table: "job_definitions", column: "status", type: "TEXT NOT NULL DEFAULT 'ACTIVE'" },
];

/**
 * A transaction that takes the write lock when it begins (BEGIN IMMEDIATE), waiting its turn
 * behind the busy timeout. A deferred one that reads before it writes runs on a snapshot of
 * its first read; when another process commits before its first write, SQLite cannot wait and
 * fails at once with SQLITE_BUSY_SNAPSHOT. Every process of the user shares this database (the
 * CLI beside `batchship serve`), so every write transaction here is immediate.
 */
export function writeTransaction<A extends unknown[], R>(db: StateDb, body: (...args: A) => R): (...args: A) => R {
  const transaction = db.transaction(body);
  return (...args: A) => transaction.immediate(...args);
}

/**
 * The local backend's state: what AWS keeps for the AWS backend (job definition revisions and
 * their tags, jobs and their children, builds). One SQLite file, shared by every batchship
 * process of the user; WAL and a busy timeout let a `status` read while a release writes.
 */
export function openStateStore(stateDir: string): StateDb {
  try {
    mkdirSync(stateDir, { recursive: true });
    const db = new Database(join(stateDir, "local.db"), { timeout: 10_000 });
    db.pragma("journal_mode = WAL");
    db.pragma("foreign_keys = ON");
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`it was written by a newer batchship (schema ${version})`);
    }
    // One transaction: two processes opening an old store at once must not both add a column.
    writeTransaction(db, () => {
      db.exec(SCHEMA);
      for (const { table, column, type } of ADDED_COLUMNS) {
        const columns = db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`).all();
        if (!columns.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
      }
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
    return db;
  } catch (error) {
    throw new BatchshipError(
      "ENVIRONMENT",
      `Could not open the local state store in ${stateDir}: ${error instanceof Error ? error.message : String(error)}`,
      { hint: "set BATCHSHIP_STATE_DIR to a writable directory", cause: error },
    );
  }
}
