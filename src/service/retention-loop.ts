import { errorFields, type Logger } from "../server/logger.js";
import type { Store } from "../store/index.js";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Pruning is cheap and age-based: once an hour is often enough to keep the store from growing. */
const EVERY_MS = 60 * 60 * 1000;

export interface RetentionLoop {
  stop(): void;
}

/**
 * Prunes the store's history older than `days` (deliveries, stage events, sent commit statuses,
 * finished reconciles; see prune.ts) at start and then every hour, and then the files `files`
 * deletes by the same age (the service's git mirrors no pipeline or open release uses, the
 * local backend's logs of builds and jobs that ended). The floor of `days` (config.ts) stays
 * above GitHub's redelivery window of three days, so a redelivered delivery is still
 * recognised as one.
 */
export function startRetentionLoop(options: {
  store: Store;
  logger: Logger;
  clock: () => number;
  days: number;
  /** Deletes files older than `cutoff` (epoch ms); resolves to how many, per kind. */
  files?: (cutoff: number) => Promise<Record<string, number>>;
}): RetentionLoop {
  const { store, logger } = options;
  let filesInFlight: Promise<void> | undefined;
  const prune = (): void => {
    const cutoff = options.clock() - options.days * DAY_MS;
    try {
      const pruned = store.prune(cutoff);
      if (Object.values(pruned).some((n) => n > 0)) logger.info("store pruned", { olderThanDays: options.days, ...pruned });
    } catch (error) {
      logger.error("pruning the store failed; trying again in an hour", errorFields(error));
    }
    const files = options.files;
    if (files === undefined || filesInFlight !== undefined) return;
    filesInFlight = files(cutoff)
      .then((pruned) => {
        if (Object.values(pruned).some((n) => n > 0)) logger.info("files pruned", { olderThanDays: options.days, ...pruned });
      })
      .catch((error: unknown) => logger.error("pruning files failed; trying again in an hour", errorFields(error)))
      .finally(() => (filesInFlight = undefined));
  };
  const first = setTimeout(prune, 0);
  const timer = setInterval(prune, EVERY_MS);
  first.unref();
  timer.unref();
  return {
    stop() {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
