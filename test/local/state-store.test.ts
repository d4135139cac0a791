import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStateStore } from "../../src/local/state-store.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "batchship-state-"));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

/** The tables of schema 1 that later schemas add to, with a job a batchship of then left. */
function schemaOneStore(): void {
  const db = new Database(join(dir, "local.db"));
  db.exec(`
    CREATE TABLE jobs (job_id TEXT PRIMARY KEY, job_name TEXT NOT NULL, job_queue TEXT NOT NULL,
      definition_arn TEXT NOT NULL, array_size INTEGER, parameters TEXT NOT NULL, environment TEXT NOT NULL,
      tags TEXT NOT NULL, stop_reason TEXT, owner_pid INTEGER NOT NULL, owner_host TEXT NOT NULL,
      created_at INTEGER NOT NULL, stopped_at INTEGER);
    CREATE TABLE job_definitions (name TEXT NOT NULL, revision INTEGER NOT NULL, arn TEXT NOT NULL UNIQUE,
      body TEXT NOT NULL, tags TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (name, revision));
    INSERT INTO job_definitions VALUES ('etl', 1, 'arn:etl:1', '{}', '{}', 1);
    CREATE TABLE children (job_id TEXT NOT NULL REFERENCES jobs (job_id), array_index INTEGER NOT NULL,
      status TEXT NOT NULL, attempt INTEGER NOT NULL, status_reason TEXT, exit_code INTEGER, log_path TEXT,
      started_at INTEGER, stopped_at INTEGER, PRIMARY KEY (job_id, array_index));
    INSERT INTO jobs VALUES ('old', 'n', 'q', 'arn', NULL, '{}', '{}', '{}', NULL, 4242, 'host', 1, NULL);
    INSERT INTO children VALUES ('old', 0, 'RUNNING', 1, NULL, NULL, NULL, 1, NULL);
    PRAGMA user_version = 1;
  `);
  db.close();
}

describe("the local state store", () => {
  it("adds the owner token and run handle columns to a store schema 1 made, keeping its rows", () => {
    schemaOneStore();
    // Twice: the second open finds the columns there.
    openStateStore(dir).close();
    const db = openStateStore(dir);
    try {
      expect(db.pragma("user_version", { simple: true })).toBe(3);
      // Revisions registered before retention existed are all ACTIVE.
      expect(db.prepare("SELECT status FROM job_definitions WHERE arn = 'arn:etl:1'").get()).toEqual({ status: "ACTIVE" });
      expect(db.prepare("SELECT owner_pid, owner_token FROM jobs WHERE job_id = 'old'").get()).toEqual({ owner_pid: 4242, owner_token: null });
      expect(db.prepare("SELECT status, run_handle FROM children WHERE job_id = 'old'").get()).toEqual({ status: "RUNNING", run_handle: null });
    } finally {
      db.close();
    }
  });

  it("creates a new store at the current schema", () => {
    const db = openStateStore(dir);
    try {
      const columns = (table: string) => db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`).all().map((c) => c.name);
      expect(columns("jobs")).toContain("owner_token");
      expect(columns("children")).toContain("run_handle");
      expect(columns("job_definitions")).toContain("status");
    } finally {
      db.close();
    }
  });
});
