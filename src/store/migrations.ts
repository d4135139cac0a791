import type { Database } from "better-sqlite3";

/**
 * Schema changes, in order. `PRAGMA user_version` remembers how many ran, so a newer service
 * upgrades an older data file on start and never runs a migration twice. Append; never edit one
 * that has shipped.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    http_status INTEGER NOT NULL,
    reason TEXT,
    repository TEXT,
    ref TEXT,
    after TEXT
  );
  CREATE TABLE releases (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    pipeline TEXT NOT NULL,
    repository TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    branch TEXT NOT NULL,
    clone_url TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    status TEXT NOT NULL,
    stage TEXT,
    superseded_by TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    updated_at INTEGER NOT NULL,
    build_id TEXT,
    image_uri TEXT,
    image_digest TEXT,
    candidate_arn TEXT,
    canary_job_id TEXT,
    canary_json TEXT,
    production_arn TEXT,
    production_revision INTEGER,
    error_json TEXT
  );
  CREATE INDEX releases_by_pipeline ON releases (pipeline, status, seq);
  CREATE INDEX releases_by_status ON releases (status, seq);
  CREATE UNIQUE INDEX releases_by_seq ON releases (seq);
  CREATE TABLE stage_events (
    id INTEGER PRIMARY KEY,
    release_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    type TEXT NOT NULL,
    stage TEXT,
    data_json TEXT NOT NULL
  );
  CREATE INDEX stage_events_by_release ON stage_events (release_id, id);
  CREATE TABLE status_reports (
    id INTEGER PRIMARY KEY,
    release_id TEXT NOT NULL,
    repository TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    context TEXT NOT NULL,
    state TEXT NOT NULL,
    description TEXT NOT NULL,
    target_url TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    done_at INTEGER,
    last_error TEXT
  );
  CREATE INDEX status_reports_due ON status_reports (done_at, next_attempt_at);
  `,
  // GitOps: reconciles asked for by pushes to a releases branch, durable like releases.
  `
  CREATE TABLE reconciles (
    id INTEGER PRIMARY KEY,
    pipeline TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    finished_at INTEGER,
    last_error TEXT,
    result_json TEXT
  );
  CREATE INDEX reconciles_due ON reconciles (status, next_attempt_at);
  `,
  // A delivery is also known by what it says (a push's repository, ref, before and after), so a
  // second copy under another delivery id (two webhooks, a replayed body) queues nothing. And the
  // branch heads the catch-up controller last saw, per pipeline.
  `
  ALTER TABLE deliveries ADD COLUMN content_key TEXT;
  CREATE UNIQUE INDEX deliveries_by_content ON deliveries (content_key) WHERE content_key IS NOT NULL;
  CREATE TABLE branch_heads (
    pipeline TEXT NOT NULL,
    branch TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (pipeline, branch)
  );
  `,
  // Build once per content: a release asked to build even when its content key matches, and
  // which image a release ended with — its content key and, when nothing was built, the key tag
  // and commit of the image it reused.
  `
  ALTER TABLE releases ADD COLUMN rebuild INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE releases ADD COLUMN image_key TEXT;
  ALTER TABLE releases ADD COLUMN image_reused_from TEXT;
  ALTER TABLE releases ADD COLUMN image_reused_from_commit TEXT;
  `,
  // A release queued again through the API's retry: its next run builds a failed build again or
  // gives a failed or cancelled canary a new attempt (cleared once that attempt has begun).
  `
  ALTER TABLE releases ADD COLUMN retry INTEGER NOT NULL DEFAULT 0;
  `,
  // The newest revision number of each job definition name the service has seen, so that a
  // restarted service's first lookup of a name costs what a running one's does.
  `
  CREATE TABLE revision_hints (
    key TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,
    saved_at INTEGER NOT NULL
  );
  `,
];

export function migrate(db: Database): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`the data file is from a newer batchship (schema ${current}, this one knows ${MIGRATIONS.length})`);
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version] ?? "");
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}
