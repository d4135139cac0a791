import { JOB_STATUSES, type Clock, type JobStatus, type StatusCounts, type SubmitJobRequest } from "../release/ports.js";
import type { RunHandle } from "./container-tool.js";
import { writeTransaction, type StateDb } from "./state-store.js";

export interface JobRow {
  job_id: string;
  job_name: string;
  job_queue: string;
  definition_arn: string;
  /** null for a single job. */
  array_size: number | null;
  parameters: string;
  environment: string;
  tags: string;
  stop_reason: string | null;
  owner_pid: number;
  owner_host: string;
  /** null for a job submitted by a batchship before owner tokens. */
  owner_token: string | null;
  created_at: number;
  stopped_at: number | null;
}

export interface ChildRow {
  job_id: string;
  array_index: number;
  status: JobStatus;
  attempt: number;
  status_reason: string | null;
  exit_code: number | null;
  log_path: string | null;
  started_at: number | null;
  stopped_at: number | null;
  /** JSON RunHandle of the running attempt; null when none is running. */
  run_handle: string | null;
}

/** The batchship process that runs a job's children. */
export interface Owner {
  /** Made up when the process starts: tells this process from an earlier one with the same pid. */
  token: string;
  /** For humans, and to tell whether the owner still runs. */
  pid: number;
  host: string;
}

/** What adopting a job found: runs of its previous owner that may still be going. */
export interface Adoption {
  orphans: Array<{ index: number; handle: RunHandle }>;
}

export interface ChildUpdate {
  status: JobStatus;
  attempt?: number;
  statusReason?: string | null;
  exitCode?: number | null;
  logPath?: string;
  startedAt?: number;
  stoppedAt?: number | null;
}

/** Jobs and their children: what Batch's SubmitJob, DescribeJobs and ListJobs read and write. */
export function createJobStore(db: StateDb, clock: Clock) {
  const insertJob = db.prepare(`INSERT INTO jobs (job_id, job_name, job_queue, definition_arn, array_size, parameters,
    environment, tags, owner_pid, owner_host, owner_token, created_at) VALUES (@jobId, @jobName, @jobQueue, @definitionArn,
    @arraySize, @parameters, @environment, @tags, @ownerPid, @ownerHost, @ownerToken, @createdAt)`);
  const insertChild = db.prepare(
    "INSERT INTO children (job_id, array_index, status, attempt) VALUES (?, ?, 'RUNNABLE', 1)",
  );
  const getJob = db.prepare<[string], JobRow>("SELECT * FROM jobs WHERE job_id = ?");
  const byName = db.prepare<[string, string], JobRow>(
    "SELECT * FROM jobs WHERE job_queue = ? AND job_name = ? ORDER BY created_at DESC, rowid DESC",
  );
  const children = db.prepare<[string], ChildRow>("SELECT * FROM children WHERE job_id = ? ORDER BY array_index");
  const child = db.prepare<[string, number], ChildRow>("SELECT * FROM children WHERE job_id = ? AND array_index = ?");
  const counts = db.prepare<[string], { status: JobStatus; n: number }>(
    "SELECT status, COUNT(*) AS n FROM children WHERE job_id = ? GROUP BY status",
  );
  const updateChild = db.prepare(`UPDATE children SET status = @status, attempt = COALESCE(@attempt, attempt),
    status_reason = CASE WHEN @setReason THEN @statusReason ELSE status_reason END,
    exit_code = CASE WHEN @setExit THEN @exitCode ELSE exit_code END,
    log_path = COALESCE(@logPath, log_path), started_at = COALESCE(@startedAt, started_at),
    stopped_at = CASE WHEN @setStopped THEN @stoppedAt ELSE stopped_at END,
    run_handle = NULL
    WHERE job_id = @jobId AND array_index = @index`);
  const setRunHandle = db.prepare("UPDATE children SET run_handle = ? WHERE job_id = ? AND array_index = ? AND status = 'RUNNING'");
  const setStop = db.prepare("UPDATE jobs SET stop_reason = COALESCE(stop_reason, ?) WHERE job_id = ?");
  const failWaiting = db.prepare(`UPDATE children SET status = 'FAILED', status_reason = ?, stopped_at = ?
    WHERE job_id = ? AND status IN ('SUBMITTED', 'PENDING', 'RUNNABLE')`);
  const setStoppedAt = db.prepare(`UPDATE jobs SET stopped_at = ? WHERE job_id = ? AND stopped_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM children WHERE job_id = ? AND status NOT IN ('SUCCEEDED', 'FAILED'))`);
  const setOwner = db.prepare(`UPDATE jobs SET owner_pid = @pid, owner_host = @host, owner_token = @token
    WHERE job_id = @jobId AND owner_pid = @oldPid AND owner_host = @oldHost AND owner_token IS @oldToken`);
  const stopReason = db.prepare<[string], { stop_reason: string | null }>("SELECT stop_reason FROM jobs WHERE job_id = ?");
  // RUNNABLE children keep theirs too: an adopter that died before it ended them leaves them to the next.
  const leftRunning = db.prepare<[string], { array_index: number; run_handle: string }>(`SELECT array_index, run_handle
    FROM children WHERE job_id = ? AND run_handle IS NOT NULL AND status NOT IN ('SUCCEEDED', 'FAILED')`);
  const requeueRunning = db.prepare(`UPDATE children SET status = 'RUNNABLE', status_reason = ?
    WHERE job_id = ? AND status IN ('STARTING', 'RUNNING')`);
  const failUnfinished = db.prepare(`UPDATE children SET status = 'FAILED', status_reason = ?, stopped_at = ?
    WHERE job_id = ? AND status NOT IN ('SUCCEEDED', 'FAILED')`);

  const finishIfDone = (jobId: string) => setStoppedAt.run(clock.now(), jobId, jobId);

  return {
    insert: writeTransaction(db, (jobId: string, request: SubmitJobRequest, definitionArn: string, owner: Owner) => {
      insertJob.run({
        jobId,
        jobName: request.jobName,
        jobQueue: request.jobQueue,
        definitionArn,
        arraySize: request.arraySize > 1 ? request.arraySize : null,
        parameters: JSON.stringify(request.parameters),
        environment: JSON.stringify(request.environment),
        tags: JSON.stringify(request.tags),
        ownerPid: owner.pid,
        ownerHost: owner.host,
        ownerToken: owner.token,
        createdAt: clock.now(),
      });
      for (let index = 0; index < Math.max(1, request.arraySize); index++) insertChild.run(jobId, index);
    }),
    job: (jobId: string) => getJob.get(jobId),
    findByName: (jobQueue: string, jobName: string) => byName.all(jobQueue, jobName),
    children: (jobId: string) => children.all(jobId),
    child: (jobId: string, index: number) => child.get(jobId, index),
    counts(jobId: string): StatusCounts {
      const result = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as StatusCounts;
      for (const row of counts.all(jobId)) result[row.status] = row.n;
      return result;
    },
    update: writeTransaction(db, (jobId: string, index: number, change: ChildUpdate) => {
      updateChild.run({
        jobId,
        index,
        status: change.status,
        attempt: change.attempt ?? null,
        setReason: change.statusReason === undefined ? 0 : 1,
        statusReason: change.statusReason ?? null,
        setExit: change.exitCode === undefined ? 0 : 1,
        exitCode: change.exitCode ?? null,
        logPath: change.logPath ?? null,
        startedAt: change.startedAt ?? null,
        setStopped: change.stoppedAt === undefined ? 0 : 1,
        stoppedAt: change.stoppedAt ?? null,
      });
      finishIfDone(jobId);
    }),
    /** What the running attempt of a child left on the machine, for an adopter to end. */
    setRunHandle(jobId: string, index: number, handle: RunHandle): void {
      setRunHandle.run(JSON.stringify(handle), jobId, index);
    },
    /** Records the stop and fails what has not started; running children are the runner's to kill. */
    requestStop: writeTransaction(db, (jobId: string, reason: string) => {
      setStop.run(reason, jobId);
      failWaiting.run(reason, clock.now(), jobId);
      finishIfDone(jobId);
    }),
    /**
     * Gives a job from its owner to another process (a detached runner) in one write; false when
     * `from` no longer owns it. The job always has exactly one owner, so the adoption rule judges
     * the new owner from the moment the old one lets go.
     */
    handOver(jobId: string, from: Owner, to: Owner): boolean {
      const taken = setOwner.run({
        pid: to.pid,
        host: to.host,
        token: to.token,
        jobId,
        oldPid: from.pid,
        oldHost: from.host,
        oldToken: from.token,
      });
      return taken.changes === 1;
    },
    /**
     * Takes over a job whose owner is gone; undefined when another process took it first. The
     * children that were running go back to RUNNABLE, or fail if the job was stopped meanwhile
     * (nobody would start them again). Either way the runs the old owner left are returned: the
     * caller ends them before anything runs again.
     */
    adopt: writeTransaction(db, (job: JobRow, owner: Owner, reason: string): Adoption | undefined => {
      const taken = setOwner.run({
        pid: owner.pid,
        host: owner.host,
        token: owner.token,
        jobId: job.job_id,
        oldPid: job.owner_pid,
        oldHost: job.owner_host,
        oldToken: job.owner_token,
      });
      if (taken.changes === 0) return undefined;
      const orphans = leftRunning.all(job.job_id).map((row) => ({ index: row.array_index, handle: JSON.parse(row.run_handle) as RunHandle }));
      const stopped = stopReason.get(job.job_id)?.stop_reason ?? null;
      if (stopped === null) requeueRunning.run(reason, job.job_id);
      else {
        failUnfinished.run(stopped, clock.now(), job.job_id);
        finishIfDone(job.job_id);
      }
      return { orphans };
    }),
  };
}

export type JobStore = ReturnType<typeof createJobStore>;
