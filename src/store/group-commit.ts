import type { Database } from "better-sqlite3";

/**
 * Durable writes at the rate of the network, not of the disk. Each commit with
 * `synchronous=FULL` waits for an fsync (milliseconds); writes that arrive in the same turn of
 * the event loop are committed together, in one transaction and one fsync, and every caller
 * hears back only after that commit. Each unit runs in its own savepoint, so one failing unit
 * does not undo the others.
 */
export interface GroupCommit {
  run<T>(unit: () => T): Promise<T>;
}

interface Pending {
  unit: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export function createGroupCommit(db: Database): GroupCommit {
  let queue: Pending[] = [];
  let scheduled = false;

  const flush = (): void => {
    scheduled = false;
    const batch = queue;
    queue = [];
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      db.transaction(() => {
        for (const pending of batch) {
          try {
            outcomes.push({ ok: true, value: db.transaction(pending.unit)() });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      }).immediate();
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
