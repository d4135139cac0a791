import type { MirrorCache } from "../git/mirror-cache.js";
import type { ReleaseLedger } from "../release/gitops/ledger.js";
import type { Backend } from "../release/ports.js";
import type { ServiceMetrics } from "../server/metrics.js";
import type { Logger } from "../server/logger.js";
import type { PipelineSpec } from "../spec/schema.js";
import type { Store } from "../store/index.js";
import type { ServiceConfig } from "./config.js";
import type { PipelineSet } from "./pipeline-set.js";
import type { StatusOutbox } from "./status-outbox.js";

/** What the service's parts share, built once in startService and passed down. */
export interface ServiceState {
  config: ServiceConfig;
  store: Store;
  logger: Logger;
  metrics: ServiceMetrics;
  statuses: StatusOutbox;
  clock: () => number;
  /** Bare mirrors of the app repositories: commits to build, branch heads and ancestry to order promotions. */
  mirrors: MirrorCache;
  /** The pipelines as last loaded. */
  pipelines(): PipelineSet;
  /** One backend per kind for the service's lifetime (SDK clients keep their connections). */
  backendFor(spec: PipelineSpec): Backend;
  /** The release ledger of a GitOps spec (undefined without `promotion.gitops`), shared per records location. */
  ledgerFor(spec: PipelineSpec): Promise<ReleaseLedger | undefined>;
  /** The config checkout's origin URL, as of the last (re)load: default records repository. */
  configOrigin(): string | undefined;
  wakeWorkers(): void;
  /** A reconcile was queued: run it when due. */
  wakeReconciler(): void;
  /** Reloads in the background; reloads never overlap. */
  reloadPipelines(reason: string, options?: { pull?: boolean }): void;
}
