import type { EngineContext } from "../release/context.js";
import type { FailedChild } from "../release/events.js";
import type { JobDefinitionRevision, JobState, StatusCounts } from "../release/ports.js";
import { canaryJobName } from "../release/release-id.js";
import { TAG, type CanaryVerdict } from "../release/tags.js";
import type { PipelineSpec } from "../spec/schema.js";
import { countsOf, emptyCounts, formatCounts, isTerminal } from "./counts.js";
import { STOP_REASON, recordedStop, stopTag, type StopKind } from "./stop-reasons.js";
import { failedChildren, runnableReasons } from "./explain.js";
import { followCanary, type FollowEnd } from "./follow.js";
import { ensureCanaryJob } from "./submit.js";
import { passes, requiredSuccesses } from "./verdict.js";

export interface CanaryInput {
  spec: PipelineSpec;
  releaseId: string;
  commit: string;
  candidate: JobDefinitionRevision;
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

  // A resumed run: an earlier run may have stopped the primary, and its stop may still be under
  // way (or, had that run died between recording and stopping, not even asked for).
  const stopped = stops.of(primary);
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
    if (!stoppedAsStuck) {
      ctx.observe({ type: "canary-stuck", jobId: end.job.jobId, runnable: countsOf(end.job).RUNNABLE, reasons });
    }
    await stops.stop(end.job, "stuck");
    if (canary.fallbackJobQueue === undefined) {
      return {
        ...failed(end.job, stuckReason(canary.runnableTimeoutMinutes, reasons, false), []),
        hint: "check the queue's compute environments (batchship doctor), or set canary.fallbackJobQueue",
      };
    }
    if (ctx.clock.now() >= deadline) {
      return failed(end.job, deadlineReason(canary.timeoutMinutes, countsOf(end.job)), []);
    }
    fallbackUsed = true;
    const fallback = await submit(ctx, input, true);
    const fallbackStopped = stops.of(fallback);
    end =
      fallbackStopped === undefined
        ? await followCanary(ctx, fallback, canary, deadline)
        : fallbackStopped === "stuck"
          ? { kind: "stuck", job: fallback, waitedMs: 0 }
          : { kind: fallbackStopped, job: fallback };
    if (end.kind === "stuck") {
      const again = fallbackStopped === undefined ? await runnableReasons(ctx, end.job) : [];
      await stops.stop(end.job, "stuck");
      return failed(end.job, stuckReason(canary.runnableTimeoutMinutes, again, true), []);
    }
  }

  const job = end.job;
  const summary = countsOf(job);
  const base = { jobId: job.jobId, jobQueue: queueName(), fallbackUsed, size: job.arraySize ?? 1, summary };
  if (end.kind === "deadline") {
    await stops.stop(job, "deadline");
    return failed(job, deadlineReason(canary.timeoutMinutes, summary), []);
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
      const tag = stopTag(job.jobId, kind);
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
    jobName: canaryJobName(input.releaseId, fallback),
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
  if ((verdict !== "passed" && verdict !== "failed") || jobId === undefined) return undefined;
  const job = await ctx.backend.platform.describeJob(jobId);
  const fallbackUsed = job?.jobName === canaryJobName(input.releaseId, true);
  const summary = job ? countsOf(job) : emptyCounts();
  return {
    jobId,
    jobQueue: fallbackUsed ? (spec.canary.fallbackJobQueue ?? spec.canary.jobQueue) : spec.canary.jobQueue,
    fallbackUsed,
    size: job?.arraySize ?? 1,
    summary,
    result: verdict,
    ...(verdict === "failed"
      ? { reason: `it failed in an earlier run (recorded on ${candidate.name}:${candidate.revision}): ${formatCounts(summary)}` }
      : {}),
    failedChildren: verdict === "failed" && job ? await failedChildren(ctx, job) : [],
  };
}

async function fallbackSubmitted(ctx: EngineContext, input: CanaryInput): Promise<boolean> {
  const queue = input.spec.canary.fallbackJobQueue;
  if (queue === undefined) return false;
  return (await ctx.backend.platform.findJobs(queue, canaryJobName(input.releaseId, true))).length > 0;
}

function deadlineReason(minutes: number, counts: StatusCounts): string {
  return `did not finish within canary.timeoutMinutes (${minutes}): ${formatCounts(counts)}`;
}

function stuckReason(minutes: number, reasons: string[], onFallback: boolean): string {
  const why = reasons.length > 0 ? `: ${reasons.join("; ")}` : "";
  const where = onFallback ? " on the fallback queue too" : "";
  return `children waited in RUNNABLE for ${minutes} minutes with nothing running${where}${why}`;
}
