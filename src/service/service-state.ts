import type { MirrorCache } from "../git/mirror-cache.js";
import type { ChangeFeed } from "../release/change-feed.js";
import type { ServiceMetrics } from "../server/metrics.js";
import type { Logger } from "../server/logger.js";
import type { Store } from "../store/index.js";
import type { Backends } from "./backends.js";
import type { ServiceConfig } from "./config.js";
import type { LoadedPipelines } from "./loaded-pipelines.js";
import type { LedgerFor } from "./ledgers.js";
import type { StatusOutbox } from "./status-outbox.js";

/**
 * The parts the service's components share. startService builds each of them, in order,
 * before the first component that uses them, and never replaces one; each component takes the
 * `Pick` of them it needs. What a component needs of one built after it (waking the workers,
 * say) it is passed as a function of its own, once that one exists.
 */
export interface ServiceState {
  config: ServiceConfig;
  clock: () => number;
  logger: Logger;
  metrics: ServiceMetrics;
  /** Releases, reconciles, deliveries, the status outbox's rows, and who holds each pipeline. */
  store: Store;
  statuses: StatusOutbox;
  /** Bare mirrors of the app repositories: commits to build, branch heads and ancestry to order promotions. */
  mirrors: MirrorCache;
  /** Build and job state changes from the events queue (BATCHSHIP_EVENTS_QUEUE_URL); absent without one. */
  changes?: ChangeFeed;
  pipelines: LoadedPipelines;
  backends: Backends;
  /** The release ledger of a GitOps spec (undefined without `promotion.gitops`), shared per records location. */
  ledgerFor: LedgerFor;
}
