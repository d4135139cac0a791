import type { Database } from "better-sqlite3";
import type { NewStatusReport, StatusReportRecord } from "./types.js";

interface ReportRow {
  id: number;
  release_id: string;
  repository: string;
  commit_sha: string;
  context: string;
  state: StatusReportRecord["state"];
  description: string;
  target_url: string;
  attempts: number;
}

/**
 * The outbox of commit statuses. A status is written here in the same transaction as the
 * change it reports, and sent later, so a crash does not lose one and a GitHub outage never
 * holds up a release. One GitHub keeps refusing is given up on (report-loop.ts).
 */
export interface StatusReportTable {
  enqueue(report: NewStatusReport, now: number): void;
  /**
   * Reports due now, the newest per commit and context only: an older pending one is marked
   * done unsent, since GitHub shows only the latest state anyway.
   */
  takeDue(now: number, limit: number): StatusReportRecord[];
  markSent(id: number, now: number): void;
  markFailed(id: number, error: string, nextAttemptAt: number): void;
  /** Gives up on a report after too many attempts. */
  markAbandoned(id: number, error: string, now: number): void;
  pendingCount(): number;
}

export function createStatusReportTable(db: Database): StatusReportTable {
  const insert = db.prepare(`
    INSERT INTO status_reports (release_id, repository, commit_sha, context, state, description, target_url, next_attempt_at)
    VALUES (@releaseId, @repository, @commit, @context, @state, @description, @targetUrl, @now)`);
  const dropOlder = db.prepare(`
    UPDATE status_reports SET done_at = ?, last_error = 'replaced by a newer status'
    WHERE done_at IS NULL AND id NOT IN (
      SELECT MAX(id) FROM status_reports WHERE done_at IS NULL GROUP BY repository, commit_sha, context)`);
  const due = db.prepare(`SELECT * FROM status_reports WHERE done_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?`);
  const sent = db.prepare(`UPDATE status_reports SET done_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?`);
  const failed = db.prepare(`UPDATE status_reports SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?`);
  const abandoned = db.prepare(`UPDATE status_reports SET attempts = attempts + 1, last_error = ?, done_at = ? WHERE id = ?`);
  const pending = db.prepare(`SELECT COUNT(*) AS n FROM status_reports WHERE done_at IS NULL`);
  const take = db.transaction((now: number, limit: number) => {
    dropOlder.run(now);
    return due.all(now, limit) as ReportRow[];
  });
  return {
    enqueue: (report, now) => void insert.run({ ...report, now }),
    takeDue: (now, limit) =>
      take.immediate(now, limit).map((row) => ({
        id: row.id,
        releaseId: row.release_id,
        repository: row.repository,
        commit: row.commit_sha,
        context: row.context,
        state: row.state,
        description: row.description,
        targetUrl: row.target_url,
        attempts: row.attempts,
      })),
    markSent: (id, now) => void sent.run(now, id),
    markFailed: (id, error, nextAttemptAt) => void failed.run(error, nextAttemptAt, id),
    markAbandoned: (id, error, now) => void abandoned.run(error, now, id),
    pendingCount: () => (pending.get() as { n: number }).n,
  };
}
