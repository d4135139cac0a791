import type { MirrorCache } from "../git/mirror-cache.js";
import { errorFields } from "../server/logger.js";
import type { ReleaseRecord } from "../store/index.js";
import { runOneRelease } from "./run-one-release.js";
import type { ServiceState } from "./service-state.js";

export interface Workers {
  /** Resumes every release that was in flight when the service last stopped, then takes queued ones. */
  start(): void;
  /** Something was queued: take it if a worker is free. */
  wake(): void;
  /** Aborts the releases in flight between AWS calls and waits for them (at most `graceMs`). */
  stop(graceMs: number): Promise<void>;
  inFlight(): number;
}

/**
 * At most `concurrency` releases at once, and at most one per pipeline (the store's claim
 * guarantees it). Claiming the newest queued release of a pipeline supersedes its older queued
 * ones; a running release is never interrupted.
 */
export function createWorkers(state: ServiceState, mirrors: MirrorCache, options: { concurrency: number }): Workers {
  const { store, logger, metrics, statuses } = state;
  const controller = new AbortController();
  const running = new Map<string, Promise<void>>();
  let stopping = false;
  let scheduled = false;

  const launch = (release: ReleaseRecord): void => {
    const run = runOneRelease(state, mirrors, release, controller.signal)
      .catch((error: unknown) => logger.error("release worker failed", { releaseId: release.id, pipeline: release.pipeline, ...errorFields(error) }))
      .finally(() => {
        running.delete(release.id);
        wake();
      });
    running.set(release.id, run);
  };

  const pump = (): void => {
    scheduled = false;
    while (!stopping && running.size < options.concurrency) {
      const now = state.clock();
      const claim = store.transaction(() => {
        const claimed = store.releases.claimNext(now);
        for (const old of claimed?.superseded ?? []) {
          statuses.queue(old, { kind: "superseded", by: claimed?.release.commit.slice(0, 12) ?? "?" }, now);
        }
        return claimed;
      });
      if (claim === undefined) return;
      for (const old of claim.superseded) {
        metrics.releases.inc({ status: "superseded" });
        logger.info("release superseded", { releaseId: old.id, pipeline: old.pipeline, commit: old.commit, supersededBy: claim.release.id });
      }
      launch(claim.release);
    }
  };

  const wake = (): void => {
    if (scheduled || stopping) return;
    scheduled = true;
    setImmediate(pump);
  };

  return {
    start() {
      for (const release of store.releases.listRunning()) {
        const resumed = store.releases.resume(release.id, state.clock());
        if (resumed) launch(resumed);
      }
      wake();
    },
    wake,
    async stop(graceMs) {
      stopping = true;
      controller.abort();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([Promise.allSettled(running.values()), grace]);
      clearTimeout(timer);
    },
    inFlight: () => running.size,
  };
}
