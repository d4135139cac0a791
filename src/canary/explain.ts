import type { EngineContext } from "../release/context.js";
import type { FailedChild } from "../release/events.js";
import type { JobState } from "../release/ports.js";
import { stoppedByBatchship } from "./stop-reasons.js";

const EXPLAIN_LIMIT = 10;

/** The failed children (or the single failed job) with reason, exit code and log stream. */
export async function failedChildren(ctx: EngineContext, job: JobState): Promise<FailedChild[]> {
  const children =
    job.arraySize === undefined
      ? job.status === "FAILED"
        ? [job]
        : []
      : await ctx.backend.platform.listChildren(job.jobId, { status: "FAILED", limit: EXPLAIN_LIMIT });
  // Children batchship itself stopped (the canary could no longer pass) explain nothing.
  return children.filter((c) => !stoppedByBatchship(c)).map((c) => {
    const child: FailedChild = { jobId: c.jobId, status: c.status };
    if (c.statusReason !== undefined) child.statusReason = c.statusReason;
    if (c.exitCode !== undefined) child.exitCode = c.exitCode;
    if (c.logStreamName !== undefined) child.logStreamName = c.logStreamName;
    if (c.logGroupName !== undefined) child.logGroupName = c.logGroupName;
    return child;
  });
}

/** Distinct reasons Batch gives for children waiting in RUNNABLE (e.g. MISCONFIGURATION:…). */
export async function runnableReasons(ctx: EngineContext, job: JobState): Promise<string[]> {
  const waiting =
    job.arraySize === undefined ? [job] : await ctx.backend.platform.listChildren(job.jobId, { status: "RUNNABLE", limit: 5 });
  return [...new Set(waiting.map((c) => c.statusReason).filter((r): r is string => Boolean(r)))];
}

const UNFINISHED = ["RUNNING", "STARTING", "RUNNABLE", "PENDING", "SUBMITTED"] as const;

/**
 * Each child that has not finished (at most ten), named for a person: index, status, since
 * when, and its log stream — what a canary at its deadline or stuck was waiting for. Read
 * before batchship stops the job, while the children still show where they were.
 */
export async function unfinishedChildren(ctx: EngineContext, job: JobState): Promise<string[]> {
  const children: JobState[] = [];
  if (job.arraySize === undefined) {
    if (job.status !== "SUCCEEDED" && job.status !== "FAILED") children.push(job);
  } else {
    for (const status of UNFINISHED) {
      if (children.length >= EXPLAIN_LIMIT) break;
      children.push(...(await ctx.backend.platform.listChildren(job.jobId, { status, limit: EXPLAIN_LIMIT - children.length })));
    }
  }
  return children.map((child) => {
    const index = child.jobId.includes(":") ? `child ${child.jobId.split(":").at(-1)}` : `job ${child.jobId}`;
    const at = child.status === "RUNNING" || child.status === "STARTING" ? (child.startedAt ?? child.createdAt) : child.createdAt;
    const since = at === undefined ? "" : ` since ${new Date(at).toISOString()}`;
    const log = child.logStreamName === undefined ? "" : ` (log stream ${child.logStreamName})`;
    return `${index} ${child.status}${since}${log}`;
  });
}
