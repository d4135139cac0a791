import type { Change, ChangeFeed, ChangeSubject, ChangeWatch } from "./change-feed.js";

export interface ChangeHub extends ChangeFeed {
  /** Hands a change to whoever watches its subject; a change nobody watches is dropped. */
  publish(change: Change): void;
  /** Subjects watched now (each release follows at most one job or build at a time). */
  watched(): number;
  /**
   * Whether changes can be heard (the queue is read). Going deaf wakes every watch, so no follower
   * sleeps out a long safety-net wait that nothing will end early.
   */
  setLive(live: boolean): void;
}

/**
 * The in-process side of a change feed: a listener publishes, followers watch. Memory is bounded
 * by the watches open, never by the changes: nothing is kept for a subject nobody follows.
 */
export function createChangeHub(): ChangeHub {
  const watches = new Map<string, Set<HubWatch>>();
  let live = true;
  const keyOf = (subject: ChangeSubject): string => `${subject.kind}\u0000${subject.id}`;
  return {
    publish(change) {
      for (const watch of watches.get(keyOf(change.subject)) ?? []) watch.note(change.ended);
    },
    watch(subject) {
      const key = keyOf(subject);
      const set = watches.get(key) ?? new Set<HubWatch>();
      watches.set(key, set);
      const watch = new HubWatch(() => live, () => {
        set.delete(watch);
        if (set.size === 0 && watches.get(key) === set) watches.delete(key);
      });
      set.add(watch);
      return watch;
    },
    watched: () => watches.size,
    setLive(now) {
      const wentDeaf = live && !now;
      live = now;
      if (wentDeaf) for (const set of watches.values()) for (const watch of set) watch.note(false);
    },
  };
}

class HubWatch implements ChangeWatch {
  private pending = false;
  private ended = false;
  private readonly waiters = new Set<(changed: boolean) => void>();

  constructor(
    readonly live: () => boolean,
    private readonly onClose: () => void,
  ) {}

  note(ended: boolean): void {
    this.pending = true;
    this.ended ||= ended;
    for (const wake of this.waiters) wake(true);
    this.waiters.clear();
  }

  changed(signal: AbortSignal): Promise<boolean> {
    if (this.pending) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = (changed: boolean): void => {
        signal.removeEventListener("abort", onAbort);
        resolve(changed);
      };
      const onAbort = (): void => {
        this.waiters.delete(wake);
        resolve(false);
      };
      this.waiters.add(wake);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  endReported(): boolean {
    return this.ended;
  }

  reset(): void {
    this.pending = false;
    this.ended = false;
  }

  close(): void {
    for (const wake of this.waiters) wake(false);
    this.waiters.clear();
    this.onClose();
  }
}
