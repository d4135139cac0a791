/**
 * Runs `work` per key so that many callers share few runs, and none gets an answer older than
 * its question: a caller shares the run that has not started yet, or, when none is waiting,
 * queues one to start after the run under way. At most one run per key is under way and one
 * waits behind it, however many callers ask.
 */
export function coalescedRuns<T>(work: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const waiting = new Map<string, Promise<T>>();
  const underWay = new Map<string, Promise<T>>();
  return (key) => {
    const queued = waiting.get(key);
    if (queued !== undefined) return queued;
    const before = underWay.get(key) ?? Promise.resolve();
    const run: Promise<T> = before
      .catch(() => undefined)
      .then(() => {
        waiting.delete(key);
        underWay.set(key, run);
        return work(key);
      })
      .finally(() => {
        if (underWay.get(key) === run) underWay.delete(key);
      });
    waiting.set(key, run);
    return run;
  };
}
