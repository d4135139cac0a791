/**
 * Merges one-id questions into one call for many ids (DescribeJobs, BatchGetBuilds), for every
 * caller in the process that shares the loader: a release following its canary asks for one
 * job, and the loader asks AWS for up to `maxBatch` at once.
 *
 * A batch is sent when it holds `maxBatch` ids, or `windowMs` after its first id arrived
 * (0: at the end of the current turn of the event loop). Callers whose answers came in the
 * same call wake together and sleep the same poll interval, so their next questions arrive
 * together too: the window only has to catch followers that joined at another moment.
 */
export interface BatchLoaderOptions<T> {
  maxBatch: number;
  windowMs: number;
  /** One call for these ids (distinct, at most `maxBatch`); ids the answer lacks are unknown. */
  load(ids: string[]): Promise<Map<string, T>>;
}

/** Resolves to the item, or undefined when the call's answer did not include the id. */
export type BatchLoader<T> = (id: string) => Promise<T | undefined>;

interface Waiter<T> {
  resolve(value: T | undefined): void;
  reject(error: unknown): void;
}

export function createBatchLoader<T>(options: BatchLoaderOptions<T>): BatchLoader<T> {
  if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) throw new RangeError("maxBatch must be a positive integer");
  let pending = new Map<string, Waiter<T>[]>();
  let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  const flush = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer as NodeJS.Timeout);
      clearImmediate(timer as NodeJS.Immediate);
      timer = undefined;
    }
    const batch = pending;
    pending = new Map();
    if (batch.size === 0) return;
    options.load([...batch.keys()]).then(
      (found) => {
        for (const [id, waiters] of batch) for (const waiter of waiters) waiter.resolve(found.get(id));
      },
      (error: unknown) => {
        // Every caller of a failed call sees the same error: none of them got an answer.
        for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
      },
    );
  };

  return (id) =>
    new Promise<T | undefined>((resolve, reject) => {
      const waiters = pending.get(id);
      if (waiters !== undefined) waiters.push({ resolve, reject });
      else pending.set(id, [{ resolve, reject }]);
      if (pending.size >= options.maxBatch) flush();
      else timer ??= options.windowMs > 0 ? setTimeout(flush, options.windowMs) : setImmediate(flush);
    });
}
