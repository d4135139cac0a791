import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLogPrune } from "../../src/local/prune-logs.js";
import { openStateStore, type StateDb } from "../../src/local/state-store.js";

let stateDir: string | undefined;
let db: StateDb | undefined;
afterEach(() => {
  db?.close();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe("the local backend's log retention", () => {
  it("deletes the logs of builds and array jobs that ended before the cutoff; a build in progress and a job with a child running keep theirs", () => {
    stateDir = mkdtempSync(join(tmpdir(), "batchship-local-logs-"));
    const state = openStateStore(stateDir);
    db = state;
    const file = (path: string) => {
      mkdirSync(join(path, ".."), { recursive: true });
      writeFileSync(path, "output\n");
      return path;
    };
    const build = (id: string, status: string, startedAt: number) => {
      const log = file(join(stateDir ?? "", "builds", `${id}.log`));
      state.prepare(`INSERT INTO builds (id, release_id, commit_sha, status, phases, log_path, started_at) VALUES (?, 'etl-1', 'c', ?, '[]', ?, ?)`).run(id, status, log, startedAt);
      return log;
    };
    const job = (id: string, stoppedAt: number | null) => {
      const log = file(join(stateDir ?? "", "jobs", id, "0.attempt-1.log"));
      state
        .prepare(`INSERT INTO jobs (job_id, job_name, job_queue, definition_arn, parameters, environment, tags, owner_pid, owner_host, created_at, stopped_at)
          VALUES (?, 'canary', 'q', 'arn', '{}', '[]', '{}', 1, 'h', 0, ?)`)
        .run(id, stoppedAt);
      return log;
    };
    const oldBuild = build("old", "failed", 100);
    const runningBuild = build("running", "in-progress", 100);
    const newBuild = build("new", "succeeded", 900);
    const oldJob = job("0b6f7c1e-old", 100);
    const runningJob = job("0b6f7c1e-running", null);
    const newJob = job("0b6f7c1e-new", 900);
    // A row naming a path outside the state dir's log folders is never followed.
    const outside = file(join(stateDir, "precious.txt"));
    state.prepare(`UPDATE builds SET log_path = ? WHERE id = 'old'`).run(outside);
    build("older", "succeeded", 50);
    state.prepare(`INSERT INTO jobs (job_id, job_name, job_queue, definition_arn, parameters, environment, tags, owner_pid, owner_host, created_at, stopped_at)
      VALUES ('..', 'canary', 'q', 'arn', '{}', '[]', '{}', 1, 'h', 0, 1)`).run();

    expect(createLogPrune(state, stateDir)(500)).toEqual({ buildLogs: 1, jobLogs: 1 });
    expect(existsSync(join(stateDir, "builds", "older.log"))).toBe(false);
    expect(existsSync(oldJob)).toBe(false);
    expect(existsSync(join(stateDir, "jobs", "0b6f7c1e-old"))).toBe(false);
    for (const kept of [outside, oldBuild, runningBuild, newBuild, runningJob, newJob, join(stateDir, "local.db")]) expect(existsSync(kept)).toBe(true);
    // Run again: nothing left to delete.
    expect(createLogPrune(state, stateDir)(500)).toEqual({ buildLogs: 0, jobLogs: 0 });
  });
});
