import { closeSync, fsync, fsyncSync, openSync } from "node:fs";
import { dirname } from "node:path";
import type { Database } from "better-sqlite3";

/**
 * Durable writes at the rate of the network, not of the disk: classic group commit. Units that
 * arrive while a commit is being made durable wait, and are then committed together, in one
 * transaction and one fsync; every caller hears back only after its commit is on disk. One
 * failing unit does not undo the others. A unit may run twice (the first run rolled back), so
 * it must only touch the database.
 *
 * With `walPath` (the store's `synchronous=FULL`), the fsync does not block the event loop:
 * SQLite commits the batch to the WAL without syncing (`synchronous=NORMAL` for that one
 * transaction), then the WAL file is fsynced on libuv's thread pool, and only then are the
 * callers answered. That is exactly the sync `synchronous=FULL` adds in WAL mode (one sync of
 * the WAL after each commit), moved off the thread that reads the next requests, which is
 * what lets those requests join the next batch. Every other transaction keeps
 * `synchronous=FULL`, and a FULL commit syncs the whole WAL, batches included.
 */
export interface GroupCommit {
  run<T>(unit: () => T): Promise<T>;
  /** Closes the WAL file handle; the database itself is closed by its owner. */
  close(): void;
}

interface Pending {
  unit: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export function createGroupCommit(db: Database, options: { walPath?: string } = {}): GroupCommit {
  const { walPath } = options;
  const toNormal = walPath === undefined ? undefined : db.prepare("PRAGMA synchronous = NORMAL");
  const toFull = walPath === undefined ? undefined : db.prepare("PRAGMA synchronous = FULL");
  let walFd: number | undefined;
  let queue: Pending[] = [];
  let scheduled = false;
  let syncing = false;
  let closed = false;

  const closeWal = (): void => {
    if (walFd !== undefined) closeSync(walFd);
    walFd = undefined;
  };

  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  /** The WAL exists once a transaction has been committed; its folder entry is made durable once. */
  const openWal = (path: string): number => {
    if (walFd === undefined) {
      walFd = openSync(path, "r");
      const dir = openSync(dirname(path), "r");
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    }
    return walFd;
  };

  // Optimistic first: the units run back to back in one transaction. Only when one throws is
  // the batch rolled back and run again with a savepoint per unit, so the failing unit alone is
  // undone (a savepoint per unit costs about as much as the unit itself).
  const runPlain = db.transaction((batch: Pending[]): Outcome[] => batch.map((pending) => ({ ok: true, value: pending.unit() })));
  const runIsolated = db.transaction((batch: Pending[]): Outcome[] =>
    batch.map((pending): Outcome => {
      try {
        return { ok: true, value: db.transaction(pending.unit)() };
      } catch (error) {
        return { ok: false, error };
      }
    }),
  );
  const commitBatch = (batch: Pending[]): Outcome[] => {
    try {
      return runPlain.immediate(batch);
    } catch {
      return runIsolated.immediate(batch);
    }
  };

  const settle = (batch: Pending[], outcomes: Outcome[]): void => {
    batch.forEach((pending, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) pending.resolve(outcome.value);
      else pending.reject(outcome?.error);
    });
  };

  const flush = (): void => {
    scheduled = false;
    // One sync in flight at a time: what arrives meanwhile is the next batch.
    if (syncing || queue.length === 0) return;
    const batch = queue;
    queue = [];
    let outcomes: Outcome[];
    let fd: number | undefined;
    try {
      if (walPath === undefined) outcomes = commitBatch(batch);
      else {
        toNormal?.run();
        try {
          outcomes = commitBatch(batch);
        } finally {
          toFull?.run();
        }
        fd = openWal(walPath);
      }
    } catch (error) {
      // The commit itself failed: nothing in the batch is durable.
      for (const pending of batch) pending.reject(error);
      if (queue.length > 0) schedule();
      return;
    }
    if (fd === undefined) {
      settle(batch, outcomes);
      return;
    }
    syncing = true;
    fsync(fd, (error) => {
      syncing = false;
      if (closed) closeWal();
      if (error) for (const pending of batch) pending.reject(error);
      else settle(batch, outcomes);
      if (queue.length > 0) schedule();
    });
  };

  return {
    run<T>(unit: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ unit, resolve: resolve as (value: unknown) => void, reject });
        schedule();
      });
    },
    close() {
      closed = true;
      // A sync in flight keeps its handle until it returns.
      if (!syncing) closeWal();
    },
  };
}
