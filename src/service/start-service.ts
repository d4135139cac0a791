import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createBackendFor } from "../backend.js";
import { createCommitStatusClient } from "../github/commit-status-client.js";
import { createSignatureVerifier } from "../github/verify-signature.js";
import { createMirrorCache } from "../git/mirror-cache.js";
import { updateCheckout } from "../git/update-checkout.js";
import type { Backend } from "../release/ports.js";
import { apiRoutes } from "../server/api-routes.js";
import { healthRoutes } from "../server/health-routes.js";
import { errorFields, type Logger } from "../server/logger.js";
import { createMetrics } from "../server/metrics.js";
import { createBodyBudget } from "../server/body-budget.js";
import { createRouter } from "../server/router.js";
import { createHttpServer } from "../server/http-server.js";
import { webhookRoute } from "../server/webhook-route.js";
import type { PipelineSpec } from "../spec/schema.js";
import { openStore, type Store } from "../store/index.js";
import { createApiActions } from "./api-actions.js";
import { openEventsQueues, type EventsQueues } from "./change-events.js";
import { createEventMetrics } from "./event-metrics.js";
import { createBackends } from "./backends.js";
import { createCatchUp } from "./catch-up.js";
import { createConfigReloads } from "./config-reloads.js";
import type { ServiceConfig } from "./config.js";
import { lockDataDir } from "./data-dir-lock.js";
import { createLedgers, readConfigOrigin } from "./ledgers.js";
import { createLoadedPipelines } from "./loaded-pipelines.js";
import { loadPipelineSet, type PipelineSet } from "./pipeline-set.js";
import { createReconciler } from "./reconciler.js";
import { readiness } from "./readiness.js";
import { startRetentionLoop } from "./retention-loop.js";
import { receiveDelivery } from "./receive-delivery.js";
import { createReportLoop, type ReportLoop } from "./report-loop.js";
import type { ServiceState } from "./service-state.js";
import { createStatusOutbox } from "./status-outbox.js";
import { createWorkers } from "./workers.js";

export interface RunningService {
  port: number;
  /** Reloads the pipeline files (SIGHUP). */
  reload(): void;
  /** Stops accepting, lets releases in flight reach the end of their current AWS call, persists, closes. */
  shutdown(): Promise<void>;
}

export interface ServiceDeps {
  logger: Logger;
  clock?: () => number;
  /** Tests and the local backend plug in here; default: the backend each spec asks for. */
  createBackend?: (spec: PipelineSpec) => Backend;
  /** Where git credentials (BATCHSHIP_GIT_TOKEN) and BATCHSHIP_CACHE_DIR come from; default: this process's environment. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Something the service cannot recover from (the store's writer thread died): stop it and exit non-zero. */
  onFatal?: (error: Error) => void;
}

/**
 * `batchship serve`: takes the data dir (one service per data dir; a second one stops here with
 * an ENVIRONMENT error, exit 3), then wires the rest. The data dir is let go once stopped.
 */
export async function startService(config: ServiceConfig, deps: ServiceDeps): Promise<RunningService> {
  // Before anything is made: a queue that cannot be read stops the start here.
  const events = config.eventsQueueUrls.length === 0 ? undefined : await openEventsQueues(config.eventsQueueUrls);
  let dataDirLock;
  try {
    dataDirLock = lockDataDir(config.dataDir);
  } catch (error) {
    await events?.close();
    throw error;
  }
  let store: Store | undefined;
  let service: RunningService & { busy(): boolean };
  try {
    store = openStore(join(config.dataDir, "batchship.sqlite"), {
      sync: config.storeSync,
      onWriterFailure: (error) => {
        deps.logger.error("the store's writer thread stopped; the service cannot record deliveries and stops", errorFields(error));
        deps.onFatal?.(error);
      },
      onCheckpointerFailure: (error) => deps.logger.error("the store's checkpoint thread stopped; the writer checkpoints past 100 MB of WAL by itself", errorFields(error)),
    });
    service = await startOnLockedDataDir(config, deps, store, events);
  } catch (error) {
    // Nothing half-started is left: the store's writer thread would keep the process alive.
    await events?.close();
    await store?.close();
    dataDirLock.release();
    throw error;
  }
  return {
    ...service,
    shutdown: () =>
      service.shutdown().finally(() => {
        // Work past the grace period still runs in this process: a new service must not resume it
        // alongside, so the data dir stays locked until this process exits.
        if (service.busy()) deps.logger.warn("work still in flight after the grace period; the data dir stays locked until this process exits");
        else dataDirLock.release();
      }),
  };
}

/**
 * Builds the service's parts in order, each from the ones before it: the pipelines, the shared
 * parts every component takes a `Pick` of (service-state.ts), then the components — config
 * reloads, workers, reconciler, catch-up, status reports — and last the HTTP routes, which wake
 * the components. Nothing is assigned after it is built.
 */
async function startOnLockedDataDir(config: ServiceConfig, deps: ServiceDeps, store: Store, events: EventsQueues | undefined): Promise<RunningService & { busy(): boolean }> {
  const { logger } = deps;
  const clock = deps.clock ?? Date.now;
  // A config push answered just before the last stop (a kill -9, a pull that failed) is applied now.
  const upToDate = config.configRepository === undefined ? true : await pullAtStart(config.pipelinesDir, logger);
  const firstSet = await loadPipelineSet(config.pipelinesDir, clock());
  logPipelines(logger, firstSet);
  const origin = await readConfigOrigin(config.pipelinesDir);
  if (origin.hadCredentials && config.gitToken === undefined) {
    logger.warn("the pipelines checkout's origin URL holds credentials, which batchship does not use: set BATCHSHIP_GIT_TOKEN (or use SSH) for GitOps record commits", {
      configOrigin: origin.url,
    });
  }
  const pipelines = createLoadedPipelines(config.pipelinesDir, clock, { set: firstSet, configOrigin: origin.url });

  // Without --public-url the service knows itself only as localhost (its port is known once it listens).
  let publicUrl = config.publicUrl ?? "";
  const links = (id: string): string => `${publicUrl}/api/releases/${encodeURIComponent(id)}`;
  const metrics = createMetrics({
    queueDepth: () => store.releases.countByStatus().queued ?? 0,
    running: () => store.releases.countByStatus().running ?? 0,
    pendingReports: () => store.statusReports.pendingCount(),
  });
  const state: ServiceState = {
    config,
    clock,
    logger,
    metrics,
    store,
    // Without --public-url a commit status would link to localhost: it links nowhere instead.
    statuses: createStatusOutbox(store, {
      enabled: config.githubToken !== undefined,
      targetUrl: (id) => (config.publicUrl === undefined ? "" : links(id)),
    }),
    mirrors: createMirrorCache({
      dir: join(config.dataDir, "mirrors"),
      ...(config.githubToken === undefined ? {} : { token: config.githubToken }),
      tokenScope: `${config.githubUrl}/`,
      allowFileSources: config.allowFileSources,
      ambientEnv: deps.env ?? process.env,
      onGitCall: (call) => metrics.gitSourceCalls.inc({ call }),
    }),
    pipelines,
    ...(events === undefined ? {} : { changes: events.hub }),
    // One backend per kind for the whole service: its DescribeJobs and BatchGetBuilds serve every
    // release in flight, and its clients' rate limit is shared by all of them.
    backends: createBackends(
      deps.createBackend ??
        ((spec) =>
          createBackendFor(spec, {}, process.env, {
            batchWindowMs: batchWindowFor(config.pollIntervalMs),
            debug: (message) => logger.debug(message),
            // A restarted service's first lookups start from what it saw before.
            revisionHints: store.revisionHints,
          })),
    ),
    ledgerFor: createLedgers({ env: deps.env ?? process.env, dataDir: config.dataDir, pipelinesDir: config.pipelinesDir, configOrigin: pipelines.configOrigin }),
  };

  const reloads = createConfigReloads({
    logger,
    clock,
    retryMs: config.pollIntervalMs,
    async reload(pull, reason) {
      const set = await pipelines.reload(pull);
      logger.info("pipelines reloaded", { reason, pipelines: [...set.specs.keys()], problems: set.problems.length, kept: keptFields(set) });
      logPipelines(logger, set, false);
    },
  });
  if (!upToDate) reloads.request("start: the pipelines checkout is not up to date", { pull: true });

  const workers = createWorkers(state, state.mirrors, { concurrency: config.concurrency });
  const reconciler = createReconciler(state, { retryMs: config.pollIntervalMs, tickMs: Math.min(1_000, config.pollIntervalMs), wakeWorkers: workers.wake });
  const catchUp = createCatchUp(state, { intervalMs: config.catchUpIntervalMs, wakeWorkers: workers.wake });
  let reports: ReportLoop | undefined;
  if (config.githubToken !== undefined) {
    const post = createCommitStatusClient({ token: config.githubToken, baseUrl: config.githubApiUrl, timeoutMs: 10_000, userAgent: "batchship" });
    reports = createReportLoop(state, post, { retryMs: config.reportRetryMs, tickMs: Math.min(250, config.reportRetryMs) });
  } else {
    logger.warn("BATCHSHIP_GITHUB_TOKEN is not set: commit statuses are not reported");
  }
  const wakeups = { wakeWorkers: workers.wake, wakeReconciler: reconciler.wake };
  const receiver = { ...state, ...wakeups, reloadPipelines: reloads.request };

  let accepting = true;
  const routes = [
    webhookRoute({
      verify: createSignatureVerifier(config.webhookSecrets),
      maxBodyBytes: config.maxBodyBytes,
      budget: createBodyBudget(config.bodyBudgetBytes),
      receive: (delivery) => receiveDelivery(receiver, delivery),
      onRejected: (status) => metrics.deliveries.inc({ outcome: status === 401 ? "unauthorized" : "rejected" }),
    }),
    ...healthRoutes({
      registry: metrics.registry,
      ready: () =>
        readiness({
          store: store.health(),
          pipelines: pipelines.current(),
          accepting,
          configPull: reloads.failing(),
          eventsFailingSince: events?.failingSince(),
          unrecordedReconciles: reconciler.unrecorded(),
        }),
    }),
    ...apiRoutes(createApiActions({ ...state, ...wakeups }, links), config.apiToken, config.readToken),
  ];
  const server = createHttpServer(createRouter(routes, logger), { maxConnections: config.maxConnections });
  // A port already taken: the pull asked for above and the metrics' event-loop sampler are all
  // that is started so far.
  await listen(server, config).catch(async (error: unknown) => {
    await reloads.stop();
    metrics.stop();
    throw error;
  });
  const port = (server.address() as AddressInfo).port;
  if (publicUrl === "") publicUrl = `http://localhost:${port}`;
  logger.info("service listening", {
    host: config.host,
    port,
    pipelines: [...pipelines.current().specs.keys()],
    apiEnabled: config.apiToken !== undefined,
    configOrigin: pipelines.configOrigin() ?? null,
  });

  events?.listen(logger, createEventMetrics(metrics.registry), clock);
  workers.start();
  reconciler.start();
  catchUp.start();
  reports?.start();
  const retention = startRetentionLoop(state);

  let stopping: Promise<void> | undefined;
  return {
    port,
    busy: () => workers.inFlight() > 0 || reconciler.busy() || store.holds.heldForApi() > 0,
    reload: () => reloads.request("SIGHUP"),
    shutdown() {
      stopping ??= (async () => {
        accepting = false;
        logger.info("service stopping", { releasesInFlight: workers.inFlight() });
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await Promise.all([workers.stop(config.shutdownGraceMs), reconciler.stop(config.shutdownGraceMs), catchUp.stop()]);
        // After the releases: until they stop, an event may still spare one a poll.
        await events?.close();
        await reports?.stop();
        await reloads.stop();
        // A pass deleting files ends before the store closes and the data dir is let go.
        await retention.stop();
        server.closeAllConnections();
        await closed;
        state.backends.destroy();
        metrics.stop();
        await store.close();
        logger.info("service stopped");
      })();
      return stopping;
    },
  };
}

/**
 * Releases wake on a shared poll beat (poll-beat.ts), so their describes arrive together; the
 * window only gathers those a busy event loop let through a little later: a tenth of the poll
 * interval, at most a quarter of a second.
 */
function batchWindowFor(pollIntervalMs: number): number {
  return Math.min(Math.round(pollIntervalMs / 10), 250);
}

async function pullAtStart(dir: string, logger: Logger): Promise<boolean> {
  try {
    await updateCheckout(dir);
    return true;
  } catch (error) {
    logger.error("could not bring the pipelines checkout up to date; serving it as it is and retrying", errorFields(error));
    return false;
  }
}

function listen(server: Server, config: ServiceConfig): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function logPipelines(logger: Logger, set: PipelineSet, summary = true): void {
  if (summary) logger.info("pipelines loaded", { pipelines: [...set.specs.keys()], problems: set.problems.length });
  if (set.specs.size === 0) logger.warn("no pipelines loaded: the pipelines folder has no valid pipeline file, so every push is ignored", { problems: set.problems.length });
  const keptLines = new Set(set.kept.flatMap((k) => k.problems));
  for (const problem of set.problems) if (!keptLines.has(problem)) logger.warn("pipeline file skipped", { problem });
  for (const k of set.kept) {
    for (const problem of k.problems) logger.error("pipeline file has problems; keeping its last good copy", { pipeline: k.pipeline, since: new Date(k.since).toISOString(), problem });
  }
}

function keptFields(set: PipelineSet): { file: string; pipeline: string; since: string }[] {
  return set.kept.map((k) => ({ file: k.file, pipeline: k.pipeline, since: new Date(k.since).toISOString() }));
}
