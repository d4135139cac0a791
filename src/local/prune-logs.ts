import { existsSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { StateDb } from "./state-store.js";

/** Log files removed by one prune: per build, and per array job (each child's attempts are one folder). */
export interface PrunedLogs {
  buildLogs: number;
  jobLogs: number;
}

/**
 * Deletes the logs of builds started and array jobs stopped before `cutoff` (epoch ms). A build
 * still in progress and a job with a child not yet finished keep theirs, whatever their age. The
 * rows stay (the revisions and jobs they describe are history); their log paths then name files
 * that are gone. Only paths under the state dir's `builds` and `jobs` folders are removed.
 */
export function createLogPrune(db: StateDb, stateDir: string): (cutoff: number) => PrunedLogs {
  const buildsDir = resolve(stateDir, "builds");
  const jobsDir = resolve(stateDir, "jobs");
  const oldBuilds = db.prepare<[number], { log_path: string }>(`SELECT log_path FROM builds WHERE status != 'in-progress' AND started_at < ?`);
  const stoppedJobs = db.prepare<[number], { job_id: string }>(`SELECT job_id FROM jobs WHERE stopped_at IS NOT NULL AND stopped_at < ?`);
  return (cutoff) => {
    let buildLogs = 0;
    for (const { log_path } of oldBuilds.all(cutoff)) {
      const path = resolve(log_path);
      if (dirname(path) === buildsDir && removed(path)) buildLogs++;
    }
    let jobLogs = 0;
    for (const { job_id } of stoppedJobs.all(cutoff)) {
      // A job id is one path segment (a UUID); anything else is not a folder of ours.
      if (basename(job_id) !== job_id || job_id === "." || job_id === "..") continue;
      if (removed(join(jobsDir, job_id))) jobLogs++;
    }
    return { buildLogs, jobLogs };
  };
}

function removed(path: string): boolean {
  if (!existsSync(path)) return false;
  rmSync(path, { recursive: true, force: true });
  return true;
}
