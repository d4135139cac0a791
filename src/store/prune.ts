import type { Database } from "better-sqlite3";

/** Rows removed per table by one prune. */
export type Pruned = Record<"deliveries" | "stageEvents" | "statusReports" | "reconciles", number>;

/** Rows deleted per statement: each holds the write lock only briefly, so deliveries keep flowing. */
const BATCH = 1_000;

/**
 * Deletes what is older than `cutoff` (epoch ms) and done with: deliveries received before it,
 * stage events of finished releases recorded before it, commit statuses sent or abandoned
 * before it, reconciles finished before it. Releases themselves are kept (they are the history
 * and the supersede order); nothing pending is touched.
 */
export function createPrune(db: Database): (cutoff: number) => Pruned {
  const statements = {
    deliveries: db.prepare(`DELETE FROM deliveries WHERE rowid IN (SELECT rowid FROM deliveries WHERE received_at < ? LIMIT ${BATCH})`),
    stageEvents: db.prepare(`
      DELETE FROM stage_events WHERE id IN (
        SELECT e.id FROM stage_events e JOIN releases r ON r.id = e.release_id
        WHERE e.at < ? AND r.finished_at IS NOT NULL AND r.status NOT IN ('queued', 'running', 'awaiting-promotion', 'promoting') LIMIT ${BATCH})`),
    statusReports: db.prepare(`DELETE FROM status_reports WHERE id IN (SELECT id FROM status_reports WHERE done_at IS NOT NULL AND done_at < ? LIMIT ${BATCH})`),
    reconciles: db.prepare(`DELETE FROM reconciles WHERE id IN (SELECT id FROM reconciles WHERE status IN ('done', 'failed') AND finished_at < ? LIMIT ${BATCH})`),
  };
  return (cutoff) => {
    const pruned: Pruned = { deliveries: 0, stageEvents: 0, statusReports: 0, reconciles: 0 };
    for (const [table, statement] of Object.entries(statements) as Array<[keyof Pruned, (typeof statements)[keyof Pruned]]>) {
      for (;;) {
        const { changes } = db.transaction(() => statement.run(cutoff)).immediate();
        pruned[table] += changes;
        if (changes < BATCH) break;
      }
    }
    return pruned;
  };
}
