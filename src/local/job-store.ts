import { JOB_STATUSES, type Clock, type JobStatus, type StatusCounts, type SubmitJobRequest } from "../release/ports.js";
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
}

export interface Owner {
  pid: number;
  host: string;
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
    environment, tags, owner_pid, owner_host, created_at) VALUES (@jobId, @jobName, @jobQueue, @definitionArn, @arraySize,
    @parameters, @environment, @tags, @ownerPid, @ownerHost, @createdAt)`);
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
    stopped_at = CASE WHEN @setStopped THEN @stoppedAt ELSE stopped_at END
    WHERE job_id = @jobId AND array_index = @index`);
  const setStop = db.prepare("UPDATE jobs SET stop_reason = COALESCE(stop_reason, ?) WHERE job_id = ?");
  const failWaiting = db.prepare(`UPDATE children SET status = 'FAILED', status_reason = ?, stopped_at = ?
    WHERE job_id = ? AND status IN ('SUBMITTED', 'PENDING', 'RUNNABLE')`);
  const setStoppedAt = db.prepare(`UPDATE jobs SET stopped_at = ? WHERE job_id = ? AND stopped_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM children WHERE job_id = ? AND status NOT IN ('SUCCEEDED', 'FAILED'))`);
  const setOwner = db.prepare("UPDATE jobs SET owner_pid = ?, owner_host = ? WHERE job_id = ? AND owner_pid = ? AND owner_host = ?");
  const requeueRunning = db.prepare(`UPDATE children SET status = 'RUNNABLE', status_reason = ?
    WHERE job_id = ? AND status IN ('STARTING', 'RUNNING')`);

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
    /** Records the stop and fails what has not started; running children are the runner's to kill. */
    requestStop: writeTransaction(db, (jobId: string, reason: string) => {
      setStop.run(reason, jobId);
      failWaiting.run(reason, clock.now(), jobId);
      finishIfDone(jobId);
    }),
    /** Takes over a job whose owner is gone; false when another process took it first. */
    adopt: writeTransaction(db, (job: JobRow, owner: Owner, reason: string): boolean => {
      if (setOwner.run(owner.pid, owner.host, job.job_id, job.owner_pid, job.owner_host).changes === 0) return false;
      requeueRunning.run(reason, job.job_id);
      return true;
    }),
  };
}

export type JobStore = ReturnType<typeof createJobStore>;
