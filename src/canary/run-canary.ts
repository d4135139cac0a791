import type { EngineContext } from "../release/context.js";
import type { FailedChild } from "../release/events.js";
import type { JobDefinitionRevision, JobState, StatusCounts } from "../release/ports.js";
import { canaryJobName } from "../release/release-id.js";
import { TAG, type CanaryVerdict } from "../release/tags.js";
import type { PipelineSpec } from "../spec/schema.js";
import { countsOf, emptyCounts, formatCounts, isTerminal } from "./counts.js";
import { STOP_REASON, recordedStop, stopTag, type StopKind } from "./stop-reasons.js";
import { failedChildren, runnableReasons, unfinishedChildren } from "./explain.js";
import { followCanary, type FollowEnd } from "./follow.js";
import { ensureCanaryJob } from "./submit.js";
import { passes, requiredSuccesses } from "./verdict.js";

export interface CanaryInput {
  spec: PipelineSpec;
  releaseId: string;
  commit: string;
  candidate: JobDefinitionRevision;
  /** Which canary attempt of the release this is (default 1; more after explicit retries): it names the job. */
  attempt?: number;
}

export interface CanaryResult {
  jobId: string;
  jobQueue: string;
  fallbackUsed: boolean;
  size: number;
  summary: StatusCounts;
  result: CanaryVerdict;
  reason?: string;
  hint?: string;
  failedChildren: FailedChild[];
}

/**
 * Stage canary: one array job on the candidate, followed to a verdict. A verdict already
 * recorded on the candidate is final: the job may be gone (Batch keeps finished jobs for days,
 * not forever) and a second canary must never run for one release.
 */
export async function runCanary(ctx: EngineContext, input: CanaryInput): Promise<CanaryResult> {
  const recorded = await recordedVerdict(ctx, input);
  if (recorded !== undefined) return recorded;

  const canary = input.spec.canary;
  const stops = new StopRecord(ctx, input.candidate);
  let fallbackUsed = false;
  const primary = await submit(ctx, input, false);
  const deadline = (primary.createdAt ?? ctx.clock.now()) + canary.timeoutMinutes * 60_000;

  // A resumed run: an earlier run (or `batchship cancel`) may have stopped the primary, and its
  // stop may still be under way (or, had that run died between recording and stopping, not even
  // asked for).
  const stopped = stops.of(primary);
  if (stopped === "cancelled") return cancelled(primary);
  if (stopped === "deadline") {
    await stops.stop(primary, "deadline");
    return failed(primary, deadlineReason(canary.timeoutMinutes, countsOf(primary)), []);
  }
  const stoppedAsStuck = stopped === "stuck" || (primary.status === "FAILED" && (await fallbackSubmitted(ctx, input)));
  let end: FollowEnd = stoppedAsStuck
    ? { kind: "stuck", job: primary, waitedMs: 0 }
    : stopped === "hopeless"
      ? { kind: "hopeless", job: primary }
      : await followCanary(ctx, primary, canary, deadline);

  if (end.kind === "stuck") {
    const reasons = stoppedAsStuck ? [] : await runnableReasons(ctx, end.job);
    const waiting = stoppedAsStuck ? [] : await unfinishedChildren(ctx, end.job);
    if (!stoppedAsStuck) {
      ctx.observe({ type: "canary-stuck", jobId: end.job.jobId, runnable: countsOf(end.job).RUNNABLE, reasons });
    }
    await stops.stop(end.job, "stuck");
    if (canary.fallbackJobQueue === undefined) {
      return {
        ...failed(end.job, stuckReason(canary.runnableTimeoutMinutes, reasons, false, waiting), []),
        hint: "check the queue's compute environments (batchship doctor), or set canary.fallbackJobQueue",
      };
    }
    if (ctx.clock.now() >= deadline) {
      return failed(end.job, deadlineReason(canary.timeoutMinutes, countsOf(end.job)), []);
    }
    fallbackUsed = true;
    const fallback = await submit(ctx, input, true);
    const fallbackStopped = stops.of(fallback);
    if (fallbackStopped === "cancelled") return cancelled(fallback);
    end =
      fallbackStopped === undefined
        ? await followCanary(ctx, fallback, canary, deadline)
        : fallbackStopped === "stuck"
          ? { kind: "stuck", job: fallback, waitedMs: 0 }
          : { kind: fallbackStopped, job: fallback };
    if (end.kind === "stuck") {
      const again = fallbackStopped === undefined ? await runnableReasons(ctx, end.job) : [];
      const stillWaiting = fallbackStopped === undefined ? await unfinishedChildren(ctx, end.job) : [];
      await stops.stop(end.job, "stuck");
      return failed(end.job, stuckReason(canary.runnableTimeoutMinutes, again, true, stillWaiting), []);
    }
  }

  const job = end.job;
  // `batchship cancel` in another process records its stop on the candidate, which this run read
  // before; the reason the stop gave is what this run sees of it, when Batch passes it on.
  if (stops.of(job) === "cancelled" || job.statusReason === STOP_REASON.cancelled) return cancelled(job);
  const summary = countsOf(job);
  const base = { jobId: job.jobId, jobQueue: queueName(), fallbackUsed, size: job.arraySize ?? 1, summary };
  if (end.kind === "deadline") {
    const hung = await unfinishedChildren(ctx, job);
    await stops.stop(job, "deadline");
    return failed(job, deadlineReason(canary.timeoutMinutes, summary, hung), []);
  }
  if (end.kind === "hopeless") await stops.stop(job, "hopeless");

  const children = summary.FAILED > 0 ? await failedChildren(ctx, job) : [];
  if (end.kind === "finished" && passes(canary, summary)) {
    return { ...base, result: "passed", failedChildren: children };
  }
  const need = requiredSuccesses(canary);
  return {
    ...base,
    result: "failed",
    reason: `${summary.FAILED} of ${base.size} children failed; ${need} must succeed (canary.minSuccessRate ${canary.minSuccessRate})`,
    failedChildren: children,
  };

  /** The queue as the spec names it (Batch answers with the queue's ARN). */
  function queueName(): string {
    return fallbackUsed ? (canary.fallbackJobQueue ?? canary.jobQueue) : canary.jobQueue;
  }

  function cancelled(at: JobState): CanaryResult {
    return { ...failed(at, "cancelled: batchship cancel stopped it", []), result: "cancelled" };
  }

  function failed(at: JobState, reason: string, failedKids: FailedChild[]): CanaryResult {
    return {
      jobId: at.jobId,
      jobQueue: queueName(),
      fallbackUsed,
      size: at.arraySize ?? 1,
      summary: countsOf(at),
      result: "failed",
      reason,
      failedChildren: failedKids,
    };
  }
}

/**
 * The stops batchship recorded on the candidate, and stopping a job: recorded first, then asked
 * of the platform, so that whatever happens in between, a resumed run knows the job was stopped
 * and why — and asks again for a stop of a job that has not ended.
 */
class StopRecord {
  private readonly tags: Record<string, string>;

  constructor(
    private readonly ctx: EngineContext,
    private readonly candidate: JobDefinitionRevision,
  ) {
    this.tags = { ...candidate.tags };
  }

  of(job: JobState): StopKind | undefined {
    return recordedStop(this.tags, job.jobId);
  }

  async stop(job: JobState, kind: StopKind): Promise<void> {
    if (this.of(job) !== kind) {
      const tag = stopTag(job, kind);
      await this.ctx.backend.platform.tagJobDefinition(this.candidate.arn, tag);
      Object.assign(this.tags, tag);
    }
    if (!isTerminal(job)) await this.ctx.backend.platform.stopJob(job.jobId, STOP_REASON[kind]);
  }
}

/**
 * Submits the canary, or finds the one an earlier run submitted, without following it: a
 * release with `wait: false`. A primary job batchship stopped as stuck moves on to the fallback
 * queue exactly as `runCanary` would, so a later run with waiting follows the same job.
 */
export async function startCanary(ctx: EngineContext, input: CanaryInput): Promise<{ job: JobState; fallbackUsed: boolean }> {
  const primary = await submit(ctx, input, false);
  const stoppedAsStuck = recordedStop(input.candidate.tags, primary.jobId) === "stuck";
  if (!stoppedAsStuck || input.spec.canary.fallbackJobQueue === undefined) return { job: primary, fallbackUsed: false };
  return { job: await submit(ctx, input, true), fallbackUsed: true };
}

async function submit(ctx: EngineContext, input: CanaryInput, fallback: boolean): Promise<JobState> {
  const canary = input.spec.canary;
  const jobQueue = fallback ? (canary.fallbackJobQueue ?? canary.jobQueue) : canary.jobQueue;
  const { job, reused } = await ensureCanaryJob(ctx, {
    jobName: canaryJobName(input.releaseId, fallback, input.attempt ?? 1),
    jobQueue,
    jobDefinitionArn: input.candidate.arn,
    arraySize: canary.arraySize,
    parameters: canary.parameters,
    environment: canary.environment,
    tags: { ...input.spec.jobDefinition.tags, [TAG.pipeline]: input.spec.name, [TAG.release]: input.releaseId, [TAG.commit]: input.commit },
    definition: input.candidate.body,
    ...(canary.shareIdentifier === undefined ? {} : { shareIdentifier: canary.shareIdentifier }),
    ...(canary.schedulingPriorityOverride === undefined ? {} : { schedulingPriorityOverride: canary.schedulingPriorityOverride }),
    ...(canary.propagateTags === undefined ? {} : { propagateTags: canary.propagateTags }),
  });
  ctx.observe({ type: "canary-submitted", jobId: job.jobId, jobQueue, fallback, reused });
  return job;
}

/** The verdict an earlier run wrote on this release's candidate, if any. */
async function recordedVerdict(ctx: EngineContext, input: CanaryInput): Promise<CanaryResult | undefined> {
  const { candidate, spec } = input;
  const verdict = candidate.tags[TAG.canary];
  const jobId = candidate.tags[TAG.canaryJob];
  if (verdict !== "passed" && verdict !== "failed" && verdict !== "cancelled") return undefined;
  // A release cancelled before its canary was submitted has a verdict and no job.
  if (jobId === undefined && verdict !== "cancelled") return undefined;
  const job = jobId === undefined ? undefined : await ctx.backend.platform.describeJob(jobId);
  const fallbackUsed = job?.jobName === canaryJobName(input.releaseId, true, input.attempt ?? 1);
  const summary = job ? countsOf(job) : emptyCounts();
  return {
    jobId: jobId ?? "",
    jobQueue: fallbackUsed ? (spec.canary.fallbackJobQueue ?? spec.canary.jobQueue) : spec.canary.jobQueue,
    fallbackUsed,
    size: job?.arraySize ?? 1,
    summary,
    result: verdict,
    ...(verdict === "failed"
      ? {
          reason: `it failed in an earlier run (recorded on ${candidate.name}:${candidate.revision}): ${formatCounts(summary)}`,
          hint: RETRY_HINT,
        }
      : {}),
    ...(verdict === "cancelled"
      ? { reason: `it was cancelled in an earlier run (recorded on ${candidate.name}:${candidate.revision})`, hint: RETRY_HINT }
      : {}),
    failedChildren: verdict === "failed" && job ? await failedChildren(ctx, job) : [],
  };
}

async function fallbackSubmitted(ctx: EngineContext, input: CanaryInput): Promise<boolean> {
  const queue = input.spec.canary.fallbackJobQueue;
  if (queue === undefined) return false;
  return (await ctx.backend.platform.findJobs(queue, canaryJobName(input.releaseId, true, input.attempt ?? 1))).length > 0;
}

const RETRY_HINT = "a verdict is final for its attempt; release the commit again with --retry to run a new canary";

function deadlineReason(minutes: number, counts: StatusCounts, unfinished: string[] = []): string {
  return `did not finish within canary.timeoutMinutes (${minutes}): ${formatCounts(counts)}${unfinishedText(unfinished)}`;
}

function stuckReason(minutes: number, reasons: string[], onFallback: boolean, unfinished: string[] = []): string {
  const why = reasons.length > 0 ? `: ${reasons.join("; ")}` : "";
  const where = onFallback ? " on the fallback queue too" : "";
  return `children waited in RUNNABLE for ${minutes} minutes with nothing running${where}${why}${unfinishedText(unfinished)}`;
}

function unfinishedText(unfinished: string[]): string {
  return unfinished.length === 0 ? "" : `; unfinished: ${unfinished.join("; ")}`;
}
