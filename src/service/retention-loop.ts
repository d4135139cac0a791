import { errorFields } from "../server/logger.js";
import { sourceUrlOf } from "./pipeline-set.js";
import type { ServiceState } from "./service-state.js";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Pruning is cheap and age-based: once an hour is often enough to keep the store from growing. */
const EVERY_MS = 60 * 60 * 1000;

export interface RetentionLoop {
  /** No pass starts after this; resolves once the pass in flight (deleting files, say) has ended. */
  stop(): Promise<void>;
}

/**
 * Prunes what is older than `--retention-days` at start and then every hour: the store's history
 * (deliveries, stage events, sent commit statuses, finished reconciles; see prune.ts), then the
 * files by the same age — the service's git mirrors that no loaded pipeline's source and no
 * release not over yet uses (mirror-cache.ts skips one with a fetch under way), and the local
 * backend's logs of builds and jobs that ended. The floor of the days (config.ts) stays above
 * GitHub's redelivery window of three days, so a redelivered delivery is still recognised as one.
 */
export function startRetentionLoop(state: Pick<ServiceState, "config" | "clock" | "logger" | "store" | "mirrors" | "backends" | "pipelines">): RetentionLoop {
  const { store, logger } = state;
  const days = state.config.retentionDays;
  let inFlight: Promise<void> | undefined;

  const pruneFiles = async (cutoff: number): Promise<Record<string, number>> => {
    const specs = [...state.pipelines.current().specs.values()];
    const sources = specs.map((spec) => sourceUrlOf(spec, state.config.githubUrl));
    const mirrors = await state.mirrors.prune(cutoff, [...sources, ...store.releases.openCloneUrls()]);
    // A backend is made when a release first needs it: one no release has used since the start
    // would keep the logs it wrote before, so each loaded pipeline's kind is made here.
    for (const spec of specs) state.backends.for(spec);
    return { mirrors, ...state.backends.pruneLogs(cutoff) };
  };

  const pass = (): void => {
    const cutoff = state.clock() - days * DAY_MS;
    try {
      const pruned = store.prune(cutoff);
      logger[anything(pruned) ? "info" : "debug"]("store pruned", { olderThanDays: days, ...pruned });
    } catch (error) {
      logger.error("pruning the store failed; trying again in an hour", errorFields(error));
    }
    // The files of the last pass are still being deleted: this pass leaves them, not stacking another.
    if (inFlight !== undefined) return;
    inFlight = pruneFiles(cutoff)
      .then((pruned) => {
        logger[anything(pruned) ? "info" : "debug"]("files pruned", { olderThanDays: days, ...pruned });
      })
      .catch((error: unknown) => logger.error("pruning files failed; trying again in an hour", errorFields(error)))
      .finally(() => (inFlight = undefined));
  };

  const first = setTimeout(pass, 0);
  const timer = setInterval(pass, EVERY_MS);
  first.unref();
  timer.unref();
  return {
    async stop() {
      clearTimeout(first);
      clearInterval(timer);
      await inFlight;
    },
  };
}

/** A round that deleted nothing is logged at debug only. */
function anything(pruned: Record<string, number>): boolean {
  return Object.values(pruned).some((n) => n > 0);
}
