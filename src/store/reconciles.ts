import type { Database } from "better-sqlite3";
import type { PipelineHolds } from "./pipeline-holds.js";
import type { NewReconcile, ReconcileJob, StoredReconcile } from "./types.js";

interface ReconcileRow {
  id: number;
  pipeline: string;
  spec_json: string;
  delivery_id: string;
  status: ReconcileJob["status"];
  attempts: number;
  created_at: number;
  next_attempt_at: number;
  finished_at: number | null;
  last_error: string | null;
  result_json: string | null;
}

/** One run of a job, as claimed: its end is written only while the row is still that run's. */
export type ReconcileRun = Pick<ReconcileJob, "id" | "attempts">;

/**
 * Reconciles a releases-branch push asked for, written with the delivery so a crash after the
 * answer loses none. Reconcile reads the branch's tip when it runs, so one queued job per
 * pipeline is enough: a newer push refreshes it instead of adding another.
 */
export interface ReconcileTable {
  /** Queues a reconcile, or makes the pipeline's queued one due now with its attempts counted afresh. Returns its id. */
  enqueue(job: NewReconcile, now: number): number;
  /** Claims the oldest due job of a pipeline nothing holds (pipeline-holds.ts): marks it running, counts the attempt. */
  claimNext(now: number): ReconcileJob | undefined;
  /**
   * How a run ended. Each writes only while the row is `running` in that run's attempt, and says
   * whether it did: written again after a failure that had taken effect, it changes nothing (a
   * run of the job begun since is not put back to queued under it).
   */
  markDone(run: ReconcileRun, resultJson: string, now: number): boolean;
  retryLater(run: ReconcileRun, error: string, nextAttemptAt: number): boolean;
  markFailed(run: ReconcileRun, error: string, now: number): boolean;
  get(id: number): StoredReconcile | undefined;
  /** Back to queued: jobs that were running when the process stopped (run again; reconcile is idempotent). */
  requeueRunning(now: number): number;
  pendingCount(): number;
}

export function createReconcileTable(db: Database, holds: PipelineHolds): ReconcileTable {
  const queuedFor = db.prepare(`SELECT id FROM reconciles WHERE pipeline = ? AND status = 'queued' ORDER BY id LIMIT 1`);
  // A new push is a new request: it gets its own attempts, not what is left of the old one's.
  const refresh = db.prepare(`UPDATE reconciles SET spec_json = ?, delivery_id = ?, next_attempt_at = MIN(next_attempt_at, ?), attempts = 0 WHERE id = ?`);
  const insert = db.prepare(`
    INSERT INTO reconciles (pipeline, spec_json, delivery_id, status, created_at, next_attempt_at)
    VALUES (@pipeline, @specJson, @deliveryId, 'queued', @now, @now)`);
  const due = db.prepare(`SELECT * FROM reconciles WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY next_attempt_at, id`);
  const start = db.prepare(`UPDATE reconciles SET status = 'running', attempts = attempts + 1 WHERE id = ?`);
  const thisRun = `id = ? AND status = 'running' AND attempts = ?`;
  const done = db.prepare(`UPDATE reconciles SET status = 'done', finished_at = ?, result_json = ?, last_error = NULL WHERE ${thisRun}`);
  const later = db.prepare(`UPDATE reconciles SET status = 'queued', last_error = ?, next_attempt_at = ? WHERE ${thisRun}`);
  const failed = db.prepare(`UPDATE reconciles SET status = 'failed', finished_at = ?, last_error = ? WHERE ${thisRun}`);
  const one = db.prepare(`SELECT * FROM reconciles WHERE id = ?`);
  const requeue = db.prepare(`UPDATE reconciles SET status = 'queued', next_attempt_at = ? WHERE status = 'running'`);
  const pending = db.prepare(`SELECT COUNT(*) AS n FROM reconciles WHERE status IN ('queued', 'running')`);

  const claim = db.transaction((now: number) => {
    const dueRows = due.all(now) as ReconcileRow[];
    // The reconciler asks every poll: with nothing due, no look at the holds (every running release).
    if (dueRows.length === 0) return undefined;
    const held = holds.blocking("reconcile");
    const row = dueRows.find((r) => !held.has(r.pipeline));
    if (row === undefined) return undefined;
    start.run(row.id);
    return { ...row, status: "running" as const, attempts: row.attempts + 1 };
  });

  return {
    enqueue(job, now) {
      const existing = queuedFor.get(job.pipeline) as { id: number } | undefined;
      if (existing !== undefined) {
        refresh.run(job.specJson, job.deliveryId, now, existing.id);
        return existing.id;
      }
      return Number(insert.run({ ...job, now }).lastInsertRowid);
    },
    claimNext(now) {
      const row = claim.immediate(now);
      return row === undefined ? undefined : toJob(row);
    },
    markDone: (run, resultJson, now) => done.run(now, resultJson, run.id, run.attempts).changes === 1,
    retryLater: (run, error, nextAttemptAt) => later.run(error, nextAttemptAt, run.id, run.attempts).changes === 1,
    markFailed: (run, error, now) => failed.run(now, error, run.id, run.attempts).changes === 1,
    get(id) {
      const row = one.get(id) as ReconcileRow | undefined;
      return row === undefined ? undefined : { ...toJob(row), finishedAt: row.finished_at, lastError: row.last_error, resultJson: row.result_json };
    },
    requeueRunning: (now) => requeue.run(now).changes,
    pendingCount: () => (pending.get() as { n: number }).n,
  };
}

function toJob(row: ReconcileRow): ReconcileJob {
  return {
    id: row.id,
    pipeline: row.pipeline,
    specJson: row.spec_json,
    deliveryId: row.delivery_id,
    status: row.status,
    attempts: row.attempts,
    createdAt: row.created_at,
    nextAttemptAt: row.next_attempt_at,
  };
}
