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
import { createCatchUp } from "./catch-up.js";
import { createConfigReloads } from "./config-reloads.js";
import type { ServiceConfig } from "./config.js";
import { lockDataDir } from "./data-dir-lock.js";
import { configOriginOf, createLedgers, readConfigOrigin } from "./ledgers.js";
import { createPipelineLocks } from "./pipeline-locks.js";
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
  const dataDirLock = lockDataDir(config.dataDir);
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
    service = await startOnLockedDataDir(config, deps, store);
  } catch (error) {
    // Nothing half-started is left: the store's writer thread would keep the process alive.
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

/** Wires the HTTP server, the workers, the reconciler and the status reporter to the store. */
async function startOnLockedDataDir(config: ServiceConfig, deps: ServiceDeps, store: Store): Promise<RunningService & { busy(): boolean }> {
  const { logger } = deps;
  const clock = deps.clock ?? Date.now;
  // A config push answered just before the last stop (a kill -9, a pull that failed) is applied now.
  const upToDate = config.configRepository === undefined ? true : await pullAtStart(config.pipelinesDir, logger);
  let pipelines: PipelineSet = await loadPipelineSet(config.pipelinesDir, clock());
  logPipelines(logger, pipelines);
  const origin = await readConfigOrigin(config.pipelinesDir);
  let configOrigin = origin.url;
  if (origin.hadCredentials && config.gitToken === undefined) {
    logger.warn("the pipelines checkout's origin URL holds credentials, which batchship does not use: set BATCHSHIP_GIT_TOKEN (or use SSH) for GitOps record commits", {
      configOrigin: origin.url,
    });
  }
  const ledgerFor = createLedgers({ env: deps.env ?? process.env, dataDir: config.dataDir, pipelinesDir: config.pipelinesDir, configOrigin: () => configOrigin });

  let publicUrl = config.publicUrl ?? "";
  const links = (id: string): string => `${publicUrl}/api/releases/${encodeURIComponent(id)}`;
  const backends = new Map<string, Backend>();
  const metrics = createMetrics({
    queueDepth: () => store.releases.countByStatus().queued ?? 0,
    running: () => store.releases.countByStatus().running ?? 0,
    pendingReports: () => store.statusReports.pendingCount(),
  });

  const mirrors = createMirrorCache({
    dir: join(config.dataDir, "mirrors"),
    ...(config.githubToken === undefined ? {} : { token: config.githubToken }),
    tokenScope: `${config.githubUrl}/`,
    allowFileSources: config.allowFileSources,
    ambientEnv: deps.env ?? process.env,
  });
  const state: ServiceState = {
    config,
    store,
    logger,
    metrics,
    clock,
    // A pipeline let go may have queued releases or reconciles that skipped it.
    locks: createPipelineLocks(() => {
      workers.wake();
      reconciler.wake();
    }),
    // Without --public-url the service knows itself only as localhost: such a status links nowhere.
    statuses: createStatusOutbox(store, {
      enabled: config.githubToken !== undefined,
      targetUrl: (id) => (config.publicUrl === undefined ? "" : links(id)),
    }),
    mirrors,
    pipelines: () => pipelines,
    backendFor(spec) {
      let backend = backends.get(spec.build.backend);
      if (backend === undefined) {
        // One backend per kind for the whole service: its DescribeJobs and BatchGetBuilds serve
        // every release in flight, and its clients' rate limit is shared by all of them.
        backend = deps.createBackend?.(spec) ?? createBackendFor(spec, {}, process.env, { batchWindowMs: batchWindowFor(config.pollIntervalMs) });
        backends.set(spec.build.backend, backend);
      }
      return backend;
    },
    ledgerFor,
    configOrigin: () => configOrigin,
    wakeWorkers: () => workers.wake(),
    wakeReconciler: () => reconciler.wake(),
    reloadPipelines: (reason, options) => reloads.request(reason, options),
  };
  const reloads = createConfigReloads({
    logger,
    clock,
    retryMs: config.pollIntervalMs,
    async reload(pull, reason) {
      if (pull) await updateCheckout(config.pipelinesDir);
      pipelines = await loadPipelineSet(config.pipelinesDir, clock(), pipelines);
      configOrigin = await configOriginOf(config.pipelinesDir);
      logger.info("pipelines reloaded", { reason, pipelines: [...pipelines.specs.keys()], problems: pipelines.problems.length, kept: keptFields(pipelines) });
      logPipelines(logger, pipelines, false);
    },
  });

  if (!upToDate) reloads.request("start: the pipelines checkout is not up to date", { pull: true });

  const workers = createWorkers(state, mirrors, { concurrency: config.concurrency });
  const reconciler = createReconciler(state, { retryMs: config.pollIntervalMs, tickMs: Math.min(1_000, config.pollIntervalMs) });
  const catchUp = createCatchUp(state, { intervalMs: config.catchUpIntervalMs });
  let reports: ReportLoop | undefined;
  if (config.githubToken !== undefined) {
    const post = createCommitStatusClient({ token: config.githubToken, baseUrl: config.githubApiUrl, timeoutMs: 10_000, userAgent: "batchship" });
    reports = createReportLoop(state, post, { retryMs: config.reportRetryMs, tickMs: Math.min(250, config.reportRetryMs) });
  } else {
    logger.warn("BATCHSHIP_GITHUB_TOKEN is not set: commit statuses are not reported");
  }

  let accepting = true;
  const routes = [
    webhookRoute({
      verify: createSignatureVerifier(config.webhookSecrets),
      maxBodyBytes: config.maxBodyBytes,
      budget: createBodyBudget(config.bodyBudgetBytes),
      receive: (delivery) => receiveDelivery(state, delivery),
      onRejected: (status) => metrics.deliveries.inc({ outcome: status === 401 ? "unauthorized" : "rejected" }),
    }),
    ...healthRoutes({
      registry: metrics.registry,
      ready: () => readiness({ store: store.health(), pipelines, accepting, configPull: reloads.failing() }),
    }),
    ...apiRoutes(createApiActions(state, links), config.apiToken, config.readToken),
  ];
  const server = createHttpServer(createRouter(routes, logger), { maxConnections: config.maxConnections });
  await listen(server, config);
  const port = (server.address() as AddressInfo).port;
  if (publicUrl === "") publicUrl = `http://localhost:${port}`;
  logger.info("service listening", { host: config.host, port, pipelines: [...pipelines.specs.keys()], apiEnabled: config.apiToken !== undefined, configOrigin: configOrigin ?? null });

  workers.start();
  reconciler.start();
  catchUp.start();
  reports?.start();
  const retention = startRetentionLoop({ store, logger, clock, days: config.retentionDays });

  let stopping: Promise<void> | undefined;
  return {
    port,
    busy: () => workers.inFlight() > 0 || state.locks.held().size > 0,
    reload: () => state.reloadPipelines("SIGHUP"),
    shutdown() {
      stopping ??= (async () => {
        accepting = false;
        logger.info("service stopping", { releasesInFlight: workers.inFlight() });
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await Promise.all([workers.stop(config.shutdownGraceMs), reconciler.stop(config.shutdownGraceMs), catchUp.stop()]);
        await reports?.stop();
        await reloads.stop();
        retention.stop();
        server.closeAllConnections();
        await closed;
        for (const backend of backends.values()) destroyClients(backend);
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

/** SDK clients hold sockets open; a stopping service closes them so the process can exit. */
function destroyClients(backend: Backend): void {
  const clients = (backend as { clients?: Record<string, unknown> }).clients;
  for (const client of Object.values(clients ?? {})) {
    if (typeof client === "object" && client !== null && "destroy" in client && typeof client.destroy === "function") client.destroy();
  }
}
