import type { Database } from "better-sqlite3";

/**
 * Durable writes at the rate of the network, not of the disk: classic group commit. Units that
 * arrive while a commit is being made durable wait, and are then committed together, in one
 * transaction and one fsync; every caller hears back only after its commit is made (and, with
 * `synchronous=FULL`, on disk). One
 * failing unit does not undo the others. A unit may run twice (the first run rolled back), so
 * it must only touch the database.
 *
 * The commit blocks the thread it runs on (fsync included, with `synchronous=FULL`): the store
 * runs it on its writer thread, where what arrives meanwhile waits in the thread's message
 * queue and becomes the next batch.
 */
export interface GroupCommit {
  run<T>(unit: () => T): Promise<T>;
}

interface Pending {
  unit: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export function createGroupCommit(db: Database): GroupCommit {
  let queue: Pending[] = [];
  let scheduled = false;

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

  const flush = (): void => {
    scheduled = false;
    const batch = queue;
    queue = [];
    let outcomes: Outcome[];
    try {
      outcomes = commitBatch(batch);
    } catch (error) {
      // The commit itself failed: nothing in the batch is durable.
      for (const pending of batch) pending.reject(error);
      return;
    }
    batch.forEach((pending, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) pending.resolve(outcome.value);
      else pending.reject(outcome?.error);
    });
  };

  return {
    run<T>(unit: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ unit, resolve: resolve as (value: unknown) => void, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}
