import type { Database } from "better-sqlite3";
import type { DeliveryOutcome, DeliveryRecord } from "./types.js";

interface DeliveryRow {
  id: string;
  event: string;
  received_at: number;
  outcome: DeliveryOutcome;
  http_status: number;
  reason: string | null;
  repository: string | null;
  ref: string | null;
  after: string | null;
  content_key: string | null;
}

export interface DeliveryTable {
  /** The delivery recorded under this `X-GitHub-Delivery` id, if any. */
  get(id: string): DeliveryRecord | undefined;
  insert(delivery: DeliveryRecord): void;
  /** Inserts the delivery unless its id or its content key is recorded already; false for a copy. One statement, no read first. */
  insertIfNew(delivery: DeliveryRecord): boolean;
  /** The HTTP status the first copy of this delivery (by id, else by content key) was answered with. */
  httpStatusOf(id: string, contentKey?: string): number | undefined;
  countByOutcome(): Record<string, number>;
}

export function createDeliveryTable(db: Database): DeliveryTable {
  const one = db.prepare(`SELECT * FROM deliveries WHERE id = ?`);
  const insert = db.prepare(`
    INSERT INTO deliveries (id, event, received_at, outcome, http_status, reason, repository, ref, after, content_key)
    VALUES (@id, @event, @receivedAt, @outcome, @httpStatus, @reason, @repository, @ref, @after, @contentKey)`);
  // No conflict target: a second copy conflicts on its id or on its content key, and either is a copy.
  const insertIfNew = db.prepare(`
    INSERT INTO deliveries (id, event, received_at, outcome, http_status, reason, repository, ref, after, content_key)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`);
  const httpStatus = db.prepare(`SELECT http_status FROM deliveries WHERE id = ?`).pluck();
  const httpStatusByContent = db.prepare(`SELECT http_status FROM deliveries WHERE content_key = ?`).pluck();
  const counts = db.prepare(`SELECT outcome, COUNT(*) AS n FROM deliveries GROUP BY outcome`);
  return {
    get(id) {
      const row = one.get(id) as DeliveryRow | undefined;
      if (row === undefined) return undefined;
      return {
        id: row.id,
        event: row.event,
        receivedAt: row.received_at,
        outcome: row.outcome,
        httpStatus: row.http_status,
        ...(row.reason === null ? {} : { reason: row.reason }),
        ...(row.repository === null ? {} : { repository: row.repository }),
        ...(row.ref === null ? {} : { ref: row.ref }),
        ...(row.after === null ? {} : { after: row.after }),
        ...(row.content_key === null ? {} : { contentKey: row.content_key }),
      };
    },
    insert(d) {
      insert.run({ reason: null, repository: null, ref: null, after: null, contentKey: null, ...d });
    },
    insertIfNew(d) {
      const { changes } = insertIfNew.run(d.id, d.event, d.receivedAt, d.outcome, d.httpStatus, d.reason ?? null, d.repository ?? null, d.ref ?? null, d.after ?? null, d.contentKey ?? null);
      return changes > 0;
    },
    httpStatusOf(id, contentKey) {
      const byId = httpStatus.get(id) as number | undefined;
      if (byId !== undefined || contentKey === undefined) return byId;
      return httpStatusByContent.get(contentKey) as number | undefined;
    },
    countByOutcome() {
      const out: Record<string, number> = {};
      for (const { outcome, n } of counts.all() as Array<{ outcome: string; n: number }>) out[outcome] = n;
      return out;
    },
  };
}
