import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { BatchshipError } from "../errors.js";
import type { JobPlatform, JobState, JobStatus, StatusCounts } from "../release/ports.js";
import type { ArrayRunner } from "./array-runner.js";
import { childLaunch } from "./child-command.js";
import type { JobDefinitionStore } from "./job-definition-store.js";
import type { ChildRow, JobRow, JobStore, Owner } from "./job-store.js";

// Failed children first: they are the ones a report explains.
const CHILD_STATUS_ORDER: JobStatus[] = ["FAILED", "RUNNING", "STARTING", "RUNNABLE", "PENDING", "SUBMITTED", "SUCCEEDED"];
const DEFAULT_CHILD_LIMIT = 100;

/** This process, as the owner of the jobs it submits or adopts. */
export const THIS_PROCESS: Owner = { token: randomUUID(), pid: process.pid, host: hostname() };

export interface PlatformDeps {
  jobs: JobStore;
  definitions: JobDefinitionStore;
  runner: ArrayRunner;
  owner?: Owner;
  /** Whether a process is alive; injected so tests can declare an owner dead. */
  isAlive?: (pid: number) => boolean;
  /**
   * Set when the caller will not wait for the jobs it submits (`release --no-wait`): starts a
   * process that runs the job's children and outlives this one, and returns it as the job's
   * next owner; undefined when none could be started (this process then runs them itself).
   */
  detach?: (jobId: string) => Owner | undefined;
}

/**
 * The JobPlatform port on this machine. Jobs run inside the batchship process that submitted
 * them, or, when the caller will not wait, in a detached runner process it hands them to. When
 * the process running a job ends before its children do (Ctrl-C, a crash), the next process
 * that looks the job up (a release of the same commit finds it by name) adopts it: what the old
 * owner left running is ended, then children that were running are run again from the start,
 * in a new container, as the same attempt (or fail, if the job was stopped); finished children
 * keep their result.
 */
export function createLocalPlatform(deps: PlatformDeps): JobPlatform {
  const { jobs, definitions, runner } = deps;
  const owner = deps.owner ?? THIS_PROCESS;
  const isAlive = deps.isAlive ?? processAlive;

  /**
   * Whether the job's owner is gone. The token, made up at each process start, says whether the
   * owner is this very process: a pid cannot, since a container restarted in place keeps its
   * hostname and its batchship gets the same pid again (often 1), so the pid of the owner that
   * died is alive forever, as this process. On the same host, a recorded pid that is this
   * process's own, under another token, was a process before this one: gone. Any other pid is
   * gone when no process has it. Another host's processes cannot be checked: never adopted.
   * The hostname stands for the pid namespace, so two containers sharing a state dir need
   * different hostnames (docker's default). An unrelated process that got the dead owner's pid
   * keeps the job waiting until it ends.
   */
  function ownerGone(job: JobRow): boolean {
    if (job.owner_token === owner.token || job.owner_host !== owner.host) return false;
    return job.owner_pid === owner.pid || !isAlive(job.owner_pid);
  }

  /** A job whose owner is gone and that has children left to run is taken over and resumed. */
  function adoptIfOrphaned(job: JobRow): void {
    if (job.stopped_at !== null || runner.runs(job.job_id) || !ownerGone(job)) return;
    const reason = `re-run: the batchship process running it (pid ${job.owner_pid}) exited`;
    const adoption = jobs.adopt(job, owner, reason);
    if (adoption !== undefined) {
      void runner.start({ ...job, owner_pid: owner.pid, owner_host: owner.host, owner_token: owner.token }, adoption.orphans);
    }
  }

  function describe(job: JobRow): JobState {
    const children = jobs.children(job.job_id);
    const state: JobState = {
      jobId: job.job_id,
      jobName: job.job_name,
      jobQueue: job.job_queue,
      status: "SUBMITTED",
      createdAt: job.created_at,
      tags: JSON.parse(job.tags) as Record<string, string>,
    };
    if (job.stopped_at !== null) state.stoppedAt = job.stopped_at;
    if (job.array_size === null) {
      const only = children[0];
      if (only !== undefined) Object.assign(state, childFields(only), { jobId: job.job_id });
      if (job.stop_reason !== null && state.status === "FAILED") state.statusReason = job.stop_reason;
      return state;
    }
    const counts = jobs.counts(job.job_id);
    state.arraySize = job.array_size;
    state.childCounts = counts;
    state.status = parentStatus(counts, job.array_size);
    if (state.status === "FAILED") {
      state.statusReason = job.stop_reason ?? `${counts.FAILED} of ${job.array_size} child jobs failed`;
    }
    return state;
  }

  function childState(job: JobRow, child: ChildRow): JobState {
    return {
      jobId: `${job.job_id}:${child.array_index}`,
      jobName: job.job_name,
      jobQueue: job.job_queue,
      createdAt: job.created_at,
      ...childFields(child),
    };
  }

  return {
    listJobDefinitionRevisions: (name, status) => definitions.listJobDefinitionRevisions(name, status),
    newestJobDefinitionRevisions: (name) => definitions.newestJobDefinitionRevisions(name),
    registerJobDefinition: (name, body, tags) => definitions.registerJobDefinition(name, body, tags),
    tagJobDefinition: (arn, tags) => definitions.tagJobDefinition(arn, tags),
    deregisterJobDefinition: (arn) => definitions.deregisterJobDefinition(arn),

    async findJobs(jobQueue, jobName) {
      return jobs.findByName(jobQueue, jobName).map((job) => {
        adoptIfOrphaned(job);
        return describe(jobs.job(job.job_id) ?? job);
      });
    },

    async submitJob(request) {
      const definition = definitions.byArn(request.jobDefinitionArn);
      if (definition === undefined) {
        throw new BatchshipError("ENVIRONMENT", `Could not submit job ${request.jobName}: job definition ${request.jobDefinitionArn} does not exist in the local store`);
      }
      // A definition the runner cannot start is an error now, not N failed children later.
      childLaunch(definition.body, request, { jobId: "check", arrayIndex: 0, attempt: 1, jobQueue: request.jobQueue });
      const jobId = randomUUID();
      jobs.insert(jobId, request, definition.arn, owner);
      const job = jobs.job(jobId);
      if (job === undefined) return { jobId };
      const next = deps.detach?.(jobId);
      // The hand-over happens while this process still owns the job and lives: no adopter can
      // come between. A runner that dies later leaves the job to the adoption rule.
      if (next === undefined || !jobs.handOver(jobId, owner, next)) void runner.start(job);
      return { jobId };
    },

    async describeJob(jobId) {
      const [parentId, index] = splitChildId(jobId);
      const job = jobs.job(parentId);
      if (job === undefined) return undefined;
      adoptIfOrphaned(job);
      const fresh = jobs.job(parentId) ?? job;
      if (index === undefined) return describe(fresh);
      const child = jobs.child(parentId, index);
      return child === undefined ? undefined : childState(fresh, child);
    },

    async listChildren(arrayJobId, options = {}) {
      const job = jobs.job(arrayJobId);
      if (job === undefined || job.array_size === null) return [];
      const limit = options.limit ?? DEFAULT_CHILD_LIMIT;
      const rank = (status: JobStatus) => CHILD_STATUS_ORDER.indexOf(status);
      return jobs
        .children(arrayJobId)
        .filter((child) => options.status === undefined || child.status === options.status)
        .sort((a, b) => rank(a.status) - rank(b.status) || a.array_index - b.array_index)
        .slice(0, Math.max(0, limit))
        .map((child) => childState(job, child));
    },

    async stopJob(jobId, reason) {
      const [parentId] = splitChildId(jobId);
      if (jobs.job(parentId) === undefined) {
        throw new BatchshipError("ENVIRONMENT", `Could not stop job ${jobId}: it does not exist in the local store`);
      }
      jobs.requestStop(parentId, reason);
      runner.stop(parentId);
    },
  };
}

/** Batch's array parent: finished when every child is, SUCCEEDED only if all succeeded. */
function parentStatus(counts: StatusCounts, size: number): JobStatus {
  if (counts.SUCCEEDED + counts.FAILED === size) return counts.FAILED > 0 ? "FAILED" : "SUCCEEDED";
  if (counts.RUNNING > 0 || counts.STARTING > 0) return "RUNNING";
  if (counts.RUNNABLE > 0) return "RUNNABLE";
  return "PENDING";
}

function childFields(child: ChildRow): Pick<JobState, "status" | "statusReason" | "exitCode" | "logStreamName" | "stoppedAt"> {
  return {
    status: child.status,
    ...(child.status_reason === null ? {} : { statusReason: child.status_reason }),
    ...(child.exit_code === null ? {} : { exitCode: child.exit_code }),
    // A file path: the local counterpart of a CloudWatch log stream.
    ...(child.log_path === null ? {} : { logStreamName: child.log_path }),
    ...(child.stopped_at === null ? {} : { stoppedAt: child.stopped_at }),
  };
}

function splitChildId(jobId: string): [string, number | undefined] {
  const match = /^([^:]+):(\d+)$/.exec(jobId);
  return match ? [match[1] ?? jobId, Number(match[2])] : [jobId, undefined];
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  return !zombie(pid);
}

/**
 * A process that died but was not reaped: a killed batchship whose parent died too, under a
 * container's pid 1 that reaps nothing. Signals still reach it, so only Linux's /proc tells.
 */
function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}
