import type { Database } from "better-sqlite3";

/** A saved hint: the newest revision number seen and when (ms since the epoch). */
export interface StoredRevisionHint {
  revision: number;
  savedAt: number;
}

/**
 * The newest revision number of each job definition name, by the AWS backend's key (region,
 * profile, endpoint and name): a restarted service's lookup hints. One row per name, so the table
 * grows with the pipelines, not with releases.
 */
export interface RevisionHintTable {
  read(key: string): StoredRevisionHint | undefined;
  /** Written through the group commit (`Store.batched`), with whatever else this turn commits. */
  write(key: string, hint: StoredRevisionHint): Promise<void>;
}

export function createRevisionHintTable(db: Database, batched: <T>(unit: () => T) => Promise<T>): RevisionHintTable {
  const one = db.prepare(`SELECT revision, saved_at AS savedAt FROM revision_hints WHERE key = ?`);
  const upsert = db.prepare(`
    INSERT INTO revision_hints (key, revision, saved_at) VALUES (?, ?, ?)
    ON CONFLICT (key) DO UPDATE SET revision = excluded.revision, saved_at = excluded.saved_at`);
  return {
    read: (key) => one.get(key) as StoredRevisionHint | undefined,
    write: (key, hint) => batched(() => void upsert.run(key, hint.revision, hint.savedAt)),
  };
}
