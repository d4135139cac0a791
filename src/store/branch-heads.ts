import type { Database } from "better-sqlite3";

/** The commit each tracked branch of each pipeline pointed at when the catch-up controller last looked. */
export interface BranchHeadTable {
  get(pipeline: string, branch: string): string | undefined;
  set(pipeline: string, branch: string, commit: string, now: number): void;
}

export function createBranchHeadTable(db: Database): BranchHeadTable {
  const one = db.prepare(`SELECT commit_sha FROM branch_heads WHERE pipeline = ? AND branch = ?`).pluck();
  const upsert = db.prepare(`
    INSERT INTO branch_heads (pipeline, branch, commit_sha, seen_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (pipeline, branch) DO UPDATE SET commit_sha = excluded.commit_sha, seen_at = excluded.seen_at`);
  return {
    get: (pipeline, branch) => one.get(pipeline, branch) as string | undefined,
    set: (pipeline, branch, commit, now) => void upsert.run(pipeline, branch, commit, now),
  };
}
