import type { Database } from "better-sqlite3";

/**
 * The newest revision number of each job definition name, by the AWS backend's key (region,
 * profile, endpoint and name): a restarted service's lookup hints. One row per name, so the table
 * grows with the pipelines, not with releases.
 */
export interface RevisionHintTable {
  read(key: string): number | undefined;
  /** Saved with the next group commit (`Store.batched`): a hint is not worth an fsync of its own. */
  write(key: string, revision: number): Promise<void>;
}

export function createRevisionHintTable(db: Database, batched: <T>(unit: () => T) => Promise<T>): RevisionHintTable {
  const one = db.prepare(`SELECT revision FROM revision_hints WHERE key = ?`).pluck();
  const upsert = db.prepare(`
    INSERT INTO revision_hints (key, revision) VALUES (?, ?)
    ON CONFLICT (key) DO UPDATE SET revision = excluded.revision`);
  return {
    read: (key) => one.get(key) as number | undefined,
    write: (key, revision) => batched(() => void upsert.run(key, revision)),
  };
}
