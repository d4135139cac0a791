import type { MirrorCache } from "../git/mirror-cache.js";
import { errorFields } from "../server/logger.js";
import type { Claim, ReleaseRecord } from "../store/index.js";
import { runOneRelease, type ReleaseRunnerParts } from "./run-one-release.js";

/** Resuming a release whose bookkeeping failed waits a poll interval, doubling up to 64×. */
const MAX_RESUME_BACKOFF_STEPS = 6;
/**
 * Releases claimed in one turn of the event loop; the rest in the next turns. A push to a
 * thousand pipelines would otherwise claim and start all of them in one turn, while no
 * webhook, API call or poll is answered.
 */
const CLAIMS_PER_TURN = 16;

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
 * At most `concurrency` releases at once. Claiming the newest queued release of a pipeline
 * supersedes its older queued ones; a running release is never interrupted. The claim skips a
 * pipeline something holds (the store's pipeline-holds.ts: a release, a reconcile, a promotion
 * or rollback through the API), and a running release holds its own until it ends.
 */
export function createWorkers(state: ReleaseRunnerParts, mirrors: MirrorCache, options: { concurrency: number }): Workers {
  const { store, logger, metrics, statuses } = state;
  const controller = new AbortController();
  const running = new Map<string, Promise<void>>();
  let stopping = false;
  let scheduled = false;

  const launch = (release: ReleaseRecord, bookkeepingFailures = 0): void => {
    let failed = false;
    const run = runOneRelease(state, mirrors, release, controller.signal)
      .catch((error: unknown) => {
        // The release's own bookkeeping failed (the store stayed busy past its timeout, say): it is
        // still `running` in the store, which holds its pipeline. It is resumed, as after a
        // restart (the engine finds what it did in AWS), after a pause that grows.
        failed = true;
        logger.error("release worker failed; resuming the release shortly", { releaseId: release.id, pipeline: release.pipeline, ...errorFields(error) });
      })
      .finally(() => {
        running.delete(release.id);
        if (failed) resumeLater(release.id, bookkeepingFailures + 1);
        wake();
      });
    running.set(release.id, run);
  };

  const resumeLater = (id: string, failures: number): void => {
    const delay = state.config.pollIntervalMs * 2 ** Math.min(failures - 1, MAX_RESUME_BACKOFF_STEPS);
    setTimeout(() => {
      if (stopping || running.has(id)) return;
      try {
        resume(id, failures);
      } catch (error) {
        logger.error("could not resume the release; trying again", { releaseId: id, ...errorFields(error) });
        resumeLater(id, failures + 1);
      }
    }, delay).unref();
  };

  /** Picks a `running` release up again; it still holds its pipeline (its row is `running`). */
  const resume = (id: string, bookkeepingFailures = 0): void => {
    const release = store.releases.get(id);
    if (release === undefined || release.status !== "running") return;
    const resumed = store.releases.resume(release.id, state.clock());
    if (resumed) launch(resumed, bookkeepingFailures);
  };

  const pump = (): void => {
    scheduled = false;
    for (let claimed = 0; !stopping && running.size < options.concurrency; claimed++) {
      if (claimed === CLAIMS_PER_TURN) return wake();
      const now = state.clock();
      let claim: Claim | undefined;
      try {
        claim = store.transaction(() => {
          const claimed = store.releases.claimNext(now);
          for (const old of claimed?.superseded ?? []) {
            statuses.queue(old, { kind: "superseded", by: claimed?.release.commit.slice(0, 12) ?? "?" }, now);
          }
          return claimed;
        });
      } catch (error) {
        // The store stayed busy past its timeout (a stalled disk): nothing was claimed; try again.
        logger.error("could not claim the next release; trying again", errorFields(error));
        setTimeout(wake, state.config.pollIntervalMs).unref();
        return;
      }
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
      // Only this process uses the data dir (the data-dir lock): a promotion left `promoting` died with the last one.
      const abandoned = store.releases.abandonPromotions(state.clock());
      if (abandoned > 0) logger.warn("promotions interrupted by the last stop are awaiting promotion again", { count: abandoned });
      for (const release of store.releases.listRunning()) resume(release.id);
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
