import { mkdirSync } from "node:fs";
import { join } from "node:path";
import DatabaseConstructor, { type Database } from "better-sqlite3";
import { BatchshipError } from "../errors.js";

/** The file the lock is held on, in the data dir. Never delete it while a service runs. */
export const LOCK_FILE = "batchship.lock";

export interface DataDirLock {
  readonly path: string;
  /** Lets the data dir go (idempotent). The OS lets it go too when the process ends, even on kill -9. */
  release(): void;
}

/**
 * One service per data dir. Two would both resume the same running releases and race each other
 * to AWS, which the engine's find-then-create cannot survive.
 *
 * The lock is SQLite's own file lock, on a small database file of its own: in exclusive locking
 * mode a connection that took the write lock keeps it until it closes. On Unix that is an fcntl
 * lock, which the kernel drops when the process ends however it ends, so a killed service never
 * leaves a stale lock behind. Taken before anything else in the data dir is opened or created,
 * so a second service stops with nothing half-made.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const path = join(dataDir, LOCK_FILE);
  let db: Database | undefined;
  try {
    mkdirSync(dataDir, { recursive: true });
    db = new DatabaseConstructor(path);
    db.pragma("busy_timeout = 0");
    db.pragma("locking_mode = EXCLUSIVE");
    // No journal file beside the lock file.
    db.pragma("journal_mode = MEMORY");
    db.exec("BEGIN EXCLUSIVE");
    db.exec("COMMIT");
  } catch (error) {
    db?.close();
    if (isBusy(error)) {
      throw new BatchshipError("ENVIRONMENT", `Another batchship serve is running on the data dir ${dataDir}`, {
        hint: "run one service per data dir: stop the other one first (a rolling deploy must stop the old process before it starts the new one), or give this one its own --data-dir",
        cause: error,
      });
    }
    throw new BatchshipError("ENVIRONMENT", `Could not lock the data dir ${dataDir}: ${error instanceof Error ? error.message : String(error)}`, {
      hint: "--data-dir must be a writable folder on a local disk",
      cause: error,
    });
  }
  const held = db;
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      held.close();
    },
  };
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_BUSY" || code === "SQLITE_LOCKED";
}
