import { BatchshipError } from "../errors.js";
import type { CanarySpec } from "../spec/schema.js";
import type { EngineContext } from "../release/context.js";
import type { JobState, StatusCounts } from "../release/ports.js";
import type { ChangeWatch } from "../release/change-feed.js";
import { pauseBeforePoll } from "../release/pause-between-polls.js";
import { cannotPass } from "./verdict.js";
import { isTerminal, sameCounts, settledCounts, } from "./counts.js";

const HEARTBEAT_MS = 5 * 60_000;

export type FollowEnd =
  /** The job reached SUCCEEDED or FAILED by itself. */
  | { kind: "finished"; job: JobState }
  /** Enough children failed that the success rate can no longer be reached. */
  | { kind: "hopeless"; job: JobState }
  /** Children wait in RUNNABLE with nothing running, longer than runnableTimeoutMinutes. */
  | { kind: "stuck"; job: JobState; waitedMs: number }
  | { kind: "deadline"; job: JobState };

/**
 * Follows one canary job to an end. One DescribeJobs per poll, whatever the array size: the
 * parent's statusSummary has the per-state counts. A poll whose counts have not settled (see
 * `settledCounts`) is judged on nothing: the job — even one that has ended — is polled again,
 * until the deadline.
 *
 * Batch never times out RUNNABLE. Children waiting there while others run are queueing for
 * capacity and the overall deadline covers them; children waiting with *nothing* starting or
 * running are stuck (no instance can take them, or the compute environment cannot scale).
 *
 * With a change feed the job is watched from here on and the wait between polls is long, ended
 * by a change; the first wait is at most the poll interval, as a change may have come before
 * the watch.
 */
export async function followCanary(
  ctx: EngineContext,
  first: JobState,
  canary: CanarySpec,
  deadline: number,
): Promise<FollowEnd> {
  const watch = ctx.changes?.watch({ kind: "job", id: first.jobId });
  try {
    return await follow(ctx, first, canary, deadline, watch);
  } finally {
    watch?.close();
  }
}

async function follow(
  ctx: EngineContext,
  first: JobState,
  canary: CanarySpec,
  deadline: number,
  watch: ChangeWatch | undefined,
): Promise<FollowEnd> {
  const runnableLimitMs = canary.runnableTimeoutMinutes * 60_000;
  let job = first;
  let reported: StatusCounts | undefined;
  let reportedAt = 0;
  let waitingSince: number | undefined;
  let soon = true;
  let endAwaited = false;
  for (;;) {
    const now = ctx.clock.now();
    // Unsettled counts are not judged, and do not move the RUNNABLE clock either way.
    const counts = settledCounts(job);
    if (counts !== undefined) {
      // A line when the counts change, and now and then while they don't, so a person watching
      // a long canary sees it is still being followed.
      if (!sameCounts(reported, counts) || now - reportedAt >= HEARTBEAT_MS) {
        reported = counts;
        reportedAt = now;
        const elapsedMs = reportedAt - (first.createdAt ?? reportedAt);
        ctx.observe({ type: "canary-progress", jobId: job.jobId, size: job.arraySize ?? 1, counts, elapsedMs });
      }
      if (isTerminal(job)) return { kind: "finished", job };
      if (cannotPass(canary, counts)) return { kind: "hopeless", job };

      const waiting = counts.RUNNABLE > 0 && counts.STARTING + counts.RUNNING === 0;
      if (!waiting) {
        waitingSince = undefined;
      } else {
        // A resumed run that finds every child RUNNABLE and none ever started has been waiting
        // since submission. Anything else — a retry back in RUNNABLE, children that ran — starts
        // the clock now.
        const neverStarted = job === first && counts.RUNNABLE === (job.arraySize ?? 1) && job.startedAt === undefined;
        waitingSince ??= neverStarted && job.createdAt !== undefined ? Math.min(job.createdAt, now) : now;
        if (now - waitingSince >= runnableLimitMs) return { kind: "stuck", job, waitedMs: now - waitingSince };
      }
    }
    if (now >= deadline) return { kind: "deadline", job };

    // The deadline and the RUNNABLE limit are not announced by any change: never sleep past them.
    const paused = await pauseBeforePoll(ctx, watch, ctx.polling.canaryIntervalMs, soon || nearLimit(ctx, now, deadline, waitingSince, runnableLimitMs));
    endAwaited ||= paused.endReported;
    job = await poll(ctx, job);
    // Unsettled counts settle without a change to say so; a reported end the poll does not show yet is a read that lags.
    soon = settledCounts(job) === undefined || (endAwaited && !isTerminal(job));
  }
}

/** Whether the safety-net wait would pass the deadline or the RUNNABLE limit. */
function nearLimit(ctx: EngineContext, now: number, deadline: number, waitingSince: number | undefined, runnableLimitMs: number): boolean {
  const wakeAt = now + ctx.polling.safetyNetIntervalMs;
  return wakeAt > deadline || (waitingSince !== undefined && wakeAt > waitingSince + runnableLimitMs);
}

/** A poll that fails transiently is a missed poll: keep the last state, the deadline still runs. */
async function poll(ctx: EngineContext, last: JobState): Promise<JobState> {
  try {
    const job = await ctx.backend.platform.describeJob(last.jobId);
    if (job === undefined) {
      throw new BatchshipError("ENVIRONMENT", `Canary job ${last.jobId} is no longer known to the job platform`, {
        hint: "Batch keeps finished jobs for about 7 days; run the release again",
      });
    }
    return job;
  } catch (error) {
    if (!(error instanceof BatchshipError && error.retryable)) throw error;
    ctx.observe({ type: "warning", message: `reading canary job ${last.jobId} failed, will retry: ${error.message}` });
    return last;
  }
}
