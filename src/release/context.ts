import type { Backend, Clock, Sleep, SourceHistory } from "./ports.js";
import { realSleep, systemClock } from "./ports.js";
import type { ReleaseObserver } from "./events.js";
import { withRetries } from "./retrying-backend.js";
import type { ReleaseLedger } from "./gitops/ledger.js";
import type { ChangeFeed } from "./change-feed.js";

/** Everything the engine needs from outside, passed in: no globals, so tests run fast and exact. */
export interface EngineContext {
  backend: Backend;
  clock: Clock;
  sleep: Sleep;
  observe: ReleaseObserver;
  polling: PollingOptions;
  /**
   * GitOps (`promotion.gitops`): where promotions, rollbacks and holds are written as commits,
   * and what production is reconciled to. Absent: AWS tags are the only record.
   */
  ledger?: ReleaseLedger;
  /**
   * The app repository's history: with it, automatic promotion takes only the branch's head and
   * never a commit production already contains, and a manual one says when it goes back.
   */
  history?: SourceHistory;
  /**
   * Changes of builds and jobs heard of between polls: with it, the wait between polls is
   * `polling.safetyNetIntervalMs`, ended early by a change. Absent: the engine polls at the
   * poll intervals.
   */
  changes?: ChangeFeed;
}

export interface PollingOptions {
  buildIntervalMs: number;
  canaryIntervalMs: number;
  /** Pause before re-looking for a resource after a failed create (eventual consistency). */
  retryDelayMs: number;
  /** Attempts of a port call (or a find-then-create step) before a retryable error is final. */
  retryAttempts: number;
  /** With a change feed: the longest wait between polls when no change arrives (lost events). */
  safetyNetIntervalMs: number;
  /** With a change feed: the pause after a change before polling, so a burst of changes is one poll. */
  changeSettleMs: number;
}

export const DEFAULT_POLLING: PollingOptions = {
  buildIntervalMs: 10_000,
  canaryIntervalMs: 15_000,
  retryDelayMs: 2_000,
  retryAttempts: 5,
  safetyNetIntervalMs: 300_000,
  changeSettleMs: 1_000,
};

export function createEngineContext(
  backend: Backend,
  overrides: Partial<Omit<EngineContext, "backend" | "polling">> & { polling?: Partial<PollingOptions> } = {},
): EngineContext {
  const sleep = overrides.sleep ?? realSleep;
  const observe = overrides.observe ?? (() => {});
  const polling = { ...DEFAULT_POLLING, ...overrides.polling };
  return {
    backend: withRetries(backend, { attempts: polling.retryAttempts, delayMs: polling.retryDelayMs, sleep, observe }),
    clock: overrides.clock ?? systemClock,
    sleep,
    observe,
    polling,
    ...(overrides.ledger === undefined ? {} : { ledger: overrides.ledger }),
    ...(overrides.history === undefined ? {} : { history: overrides.history }),
    ...(overrides.changes === undefined ? {} : { changes: overrides.changes }),
  };
}
