import { isBatchshipError } from "../errors.js";
import { reconcilePipeline, type ReconcileResult } from "../release/gitops/reconcile.js";
import { errorFields, type Logger } from "../server/logger.js";
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
  /** Jobs that ended but whose end could not be written yet: each still holds its pipeline. */
  unrecorded(): UnrecordedReconcile[];
  /**
   * Stops between AWS calls and waits for the job in flight (at most `graceMs`); it runs again on
   * the next start. An end not yet written is tried once more; if that fails too, the job runs
   * again on the next start.
   */
  stop(graceMs: number): Promise<void>;
}

/** A reconcile that ended while its end could not be written to the store (for readiness). */
export interface UnrecordedReconcile {
  id: number;
  pipeline: string;
  /** How it ended: done, retry or failed. */
  ending: string;
  /** When writing it first failed (epoch ms). */
  since: number;
  failures: number;
}

/** How a run of a job ended, as it is written to the store. */
type Ending =
  | { kind: "done"; result: ReconcileResult }
  | { kind: "retry"; error: unknown; delayMs: number }
  | { kind: "failed"; error: unknown }
  | { kind: "paused" };

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
 *
 * A job's own bookkeeping can fail too (the store busy past its timeout): then its row is still
 * `running` and holds its pipeline. Its end is known, so it is written again after a pause that
 * grows as for a failed reconcile, not run again: a second run would find Batch in sync and
 * record `in-sync` for a job that registered. A job whose end is lost with the process runs
 * again on the next start, which reconcile.ts makes safe.
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
  const unrecorded = new Map<number, UnrecordedReconcile & { job: ReconcileJob; write: () => void; timer: NodeJS.Timeout }>();
  const backoff = (failures: number): number => options.retryMs * 2 ** Math.min(failures - 1, MAX_BACKOFF_STEPS);

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
    record(job, await reconcileOnce(job), log, 0);
  };

  /** Runs the job's reconcile; touches no store (its end is written by `record`). */
  const reconcileOnce = async (job: ReconcileJob): Promise<Ending> => {
    try {
      const spec = PipelineSpec.parse(JSON.parse(job.specJson));
      const ctx = await engineContextFor(state, spec, { signal: controller.signal });
      return { kind: "done", result: await reconcilePipeline(ctx, spec, BY) };
    } catch (error) {
      if (error instanceof ShutdownError) return { kind: "paused" };
      const permanent = isBatchshipError(error) && (error.code === "USAGE" || error.code === "SPEC_INVALID");
      if (permanent || job.attempts >= MAX_ATTEMPTS) return { kind: "failed", error };
      return { kind: "retry", error, delayMs: backoff(job.attempts) };
    }
  };

  /** Writes how the run ended; when the store refuses, keeps it and writes it again later. */
  const record = (job: ReconcileJob, ending: Ending, log: Logger, failures: number): void => {
    let written: boolean;
    try {
      written = write(job, ending);
    } catch (error) {
      const pending = unrecorded.get(job.id);
      clearTimeout(pending?.timer);
      if (ending.kind === "paused" || stopped) {
        unrecorded.delete(job.id);
        log.warn("could not record the reconcile's end; it runs again on the next start", { ending: ending.kind, ...errorFields(error) });
        return;
      }
      const retryInMs = backoff(failures + 1);
      log.error("could not record the reconcile's end; trying again shortly", { ending: ending.kind, ...endingFields(ending), retryInMs, ...errorFields(error) });
      const again = (): void => record(job, ending, log, failures + 1);
      unrecorded.set(job.id, {
        id: job.id,
        pipeline: job.pipeline,
        ending: ending.kind,
        since: pending?.since ?? state.clock(),
        failures: failures + 1,
        job,
        write: again,
        timer: setTimeout(again, retryInMs).unref(),
      });
      return;
    }
    clearTimeout(unrecorded.get(job.id)?.timer);
    unrecorded.delete(job.id);
    if (!written) {
      log.warn("the reconcile's end was not written: the job is no longer in this run", { ending: ending.kind });
    } else if (ending.kind === "done") {
      log.info("reconcile finished", summary(ending.result));
    } else if (ending.kind === "paused") {
      log.info("reconcile paused for shutdown; it runs again on the next start");
    } else if (ending.kind === "failed") {
      log.error("reconcile failed", { attempts: job.attempts, ...errorFields(ending.error) });
    } else {
      log.warn("reconcile failed; will retry", { attempts: job.attempts, retryInMs: ending.delayMs, ...errorFields(ending.error) });
    }
    if (failures > 0) {
      // Written late: its pipeline was held until now.
      options.wakeWorkers();
      wake();
    }
  };

  const write = (job: ReconcileJob, ending: Ending): boolean => {
    const now = state.clock();
    switch (ending.kind) {
      case "done":
        return store.reconciles.markDone(job, JSON.stringify(ending.result), now);
      case "paused":
        return store.reconciles.retryLater(job, "paused for shutdown", now);
      case "failed":
        return store.reconciles.markFailed(job, describe(ending.error), now);
      case "retry":
        return store.reconciles.retryLater(job, describe(ending.error), now + ending.delayMs);
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

  const wake = (): void => {
    if (!running && !stopped) setImmediate(tick);
  };

  return {
    start() {
      const resumed = store.reconciles.requeueRunning(state.clock());
      if (resumed > 0) logger.info("reconciles resumed", { count: resumed });
      tick();
    },
    wake,
    busy: () => running,
    unrecorded: () => [...unrecorded.values()].map(({ id, pipeline, ending, since, failures }) => ({ id, pipeline, ending, since, failures })),
    async stop(graceMs) {
      stopped = true;
      clearTimeout(timer);
      controller.abort();
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([current, new Promise<void>((resolve) => (grace = setTimeout(resolve, graceMs)))]);
      clearTimeout(grace);
      // One last try for each end not yet written; what still fails runs again on the next start.
      for (const pending of [...unrecorded.values()]) {
        clearTimeout(pending.timer);
        pending.write();
      }
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

/** The outcome fields logged with an end that could not be written. */
function endingFields(ending: Ending): Record<string, unknown> {
  if (ending.kind === "done") return summary(ending.result);
  if (ending.kind === "paused") return {};
  return { reconcileError: describe(ending.error) };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
