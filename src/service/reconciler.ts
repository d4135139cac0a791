import { isBatchshipError } from "../errors.js";
import { reconcilePipeline, type ReconcileResult } from "../release/gitops/reconcile.js";
import { errorFields } from "../server/logger.js";
import { PipelineSpec } from "../spec/schema.js";
import type { ReconcileJob } from "../store/index.js";
import { engineContextFor } from "./engine-context-for.js";
import type { ServiceState } from "./service-state.js";
import { ShutdownError } from "./shutdown-guard.js";

export interface Reconciler {
  /** Runs again the jobs a stopped process left running, then the queued ones. */
  start(): void;
  wake(): void;
  /** Whether a job is in flight. */
  busy(): boolean;
  /** Stops between AWS calls and waits for the job in flight (at most `graceMs`); it runs again on the next start. */
  stop(graceMs: number): Promise<void>;
}

const MAX_ATTEMPTS = 8;
const MAX_BACKOFF_STEPS = 6;
const BY = "batchship serve (push to the releases branch)";

/**
 * Runs the store's reconcile jobs one at a time, beside the workers. The claim skips a pipeline
 * something holds (the store's pipeline-holds.ts): a running release registers from the record
 * itself when it ends, and a reconcile racing it could register the same record twice. A running
 * job holds its pipeline in turn, against releases and the API. Failures are retried with
 * back-off (the engine has already retried each AWS call); a spec or usage problem is not,
 * since it would fail the same way.
 */
export function createReconciler(
  state: Pick<ServiceState, "config" | "clock" | "logger" | "store" | "backends" | "ledgerFor">,
  options: { retryMs: number; tickMs: number; wakeWorkers: () => void },
): Reconciler {
  const { store, logger } = state;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  let running = false;
  let stopped = false;

  const runDue = async (): Promise<void> => {
    while (!stopped) {
      const job = store.reconciles.claimNext(state.clock());
      if (job === undefined) return;
      try {
        await runJob(job);
      } finally {
        // Its pipeline is free again: a release may have been skipped while the job ran.
        options.wakeWorkers();
      }
    }
  };

  const runJob = async (job: ReconcileJob): Promise<void> => {
    const log = logger.child({ pipeline: job.pipeline, reconcileId: job.id });
    log.info("reconcile started", { deliveryId: job.deliveryId, attempt: job.attempts });
    try {
      const spec = PipelineSpec.parse(JSON.parse(job.specJson));
      const ctx = await engineContextFor(state, spec, { signal: controller.signal });
      const result = await reconcilePipeline(ctx, spec, BY);
      store.reconciles.markDone(job.id, JSON.stringify(result), state.clock());
      log.info("reconcile finished", summary(result));
    } catch (error) {
      if (error instanceof ShutdownError) {
        store.reconciles.retryLater(job.id, "paused for shutdown", state.clock());
        log.info("reconcile paused for shutdown; it runs again on the next start");
        return;
      }
      const permanent = isBatchshipError(error) && (error.code === "USAGE" || error.code === "SPEC_INVALID");
      if (permanent || job.attempts >= MAX_ATTEMPTS) {
        store.reconciles.markFailed(job.id, describe(error), state.clock());
        log.error("reconcile failed", { attempts: job.attempts, ...errorFields(error) });
        return;
      }
      const delay = options.retryMs * 2 ** Math.min(job.attempts - 1, MAX_BACKOFF_STEPS);
      store.reconciles.retryLater(job.id, describe(error), state.clock() + delay);
      log.warn("reconcile failed; will retry", { attempts: job.attempts, retryInMs: delay, ...errorFields(error) });
    }
  };

  const tick = (): void => {
    clearTimeout(timer);
    if (stopped || running) return;
    running = true;
    current = runDue()
      .catch((error: unknown) => logger.error("reconcile loop failed", errorFields(error)))
      .finally(() => {
        running = false;
        if (!stopped) timer = setTimeout(tick, options.tickMs);
      });
  };

  return {
    start() {
      const resumed = store.reconciles.requeueRunning(state.clock());
      if (resumed > 0) logger.info("reconciles resumed", { count: resumed });
      tick();
    },
    wake: () => {
      if (!running) setImmediate(tick);
    },
    busy: () => running,
    async stop(graceMs) {
      stopped = true;
      clearTimeout(timer);
      controller.abort();
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([current, new Promise<void>((resolve) => (grace = setTimeout(resolve, graceMs)))]);
      clearTimeout(grace);
    },
  };
}

function summary(result: ReconcileResult): Record<string, unknown> {
  return {
    action: result.action,
    kind: result.kind,
    record: result.record?.releaseId ?? null,
    recordCommit: result.record?.recordCommit ?? null,
    production: result.production?.arn ?? null,
    held: result.hold !== null,
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
