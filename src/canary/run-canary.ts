import type { EngineContext } from "../release/context.js";
import type { FailedChild } from "../release/events.js";
import type { JobDefinitionRevision, JobState, StatusCounts } from "../release/ports.js";
import { canaryJobName } from "../release/release-id.js";
import { TAG, type CanaryVerdict } from "../release/tags.js";
import type { PipelineSpec } from "../spec/schema.js";
import { countsOf, formatCounts } from "./counts.js";
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

/** Stop reasons batchship writes on jobs it stops; a resumed run reads them back. */
export const STOP_REASON = {
  stuck: "batchship: children RUNNABLE past canary.runnableTimeoutMinutes",
  hopeless: "batchship: canary can no longer reach canary.minSuccessRate",
  deadline: "batchship: canary past canary.timeoutMinutes",
} as const;

/** Stage canary: one array job on the candidate, followed to a verdict. */
export async function runCanary(ctx: EngineContext, input: CanaryInput): Promise<CanaryResult> {
  const canary = input.spec.canary;
  const primary = await submit(ctx, input, false);
  const deadline = (primary.createdAt ?? ctx.clock.now()) + canary.timeoutMinutes * 60_000;

  const stoppedAsStuck = primary.status === "FAILED" && primary.statusReason === STOP_REASON.stuck;
  let end: FollowEnd = stoppedAsStuck
    ? { kind: "stuck", job: primary, waitedMs: 0 }
    : await followCanary(ctx, primary, canary, deadline);
  let fallbackUsed = false;

  if (end.kind === "stuck") {
    const reasons = stoppedAsStuck ? [] : await runnableReasons(ctx, end.job);
    if (!stoppedAsStuck) {
      ctx.observe({ type: "canary-stuck", jobId: end.job.jobId, runnable: countsOf(end.job).RUNNABLE, reasons });
      await ctx.backend.platform.stopJob(end.job.jobId, STOP_REASON.stuck);
    }
    if (canary.fallbackJobQueue === undefined) {
      return {
        ...failed(end.job, stuckReason(canary.runnableTimeoutMinutes, reasons, false), []),
        hint: "check the queue's compute environments (batchship doctor), or set canary.fallbackJobQueue",
      };
    }
    fallbackUsed = true;
    const fallback = await submit(ctx, input, true);
    end = await followCanary(ctx, fallback, canary, deadline);
    if (end.kind === "stuck") {
      const again = await runnableReasons(ctx, end.job);
      await ctx.backend.platform.stopJob(end.job.jobId, STOP_REASON.stuck);
      return failed(end.job, stuckReason(canary.runnableTimeoutMinutes, again, true), []);
    }
  }

  const job = end.job;
  const summary = countsOf(job);
  const base = { jobId: job.jobId, jobQueue: queueName(), fallbackUsed, size: job.arraySize ?? 1, summary };
  if (end.kind === "deadline") {
    await ctx.backend.platform.stopJob(job.jobId, STOP_REASON.deadline);
    return failed(job, `did not finish within canary.timeoutMinutes (${canary.timeoutMinutes}): ${formatCounts(summary)}`, []);
  }
  if (end.kind === "hopeless") await ctx.backend.platform.stopJob(job.jobId, STOP_REASON.hopeless);

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
    tags: { [TAG.pipeline]: input.spec.name, [TAG.release]: input.releaseId, [TAG.commit]: input.commit },
  });
  ctx.observe({ type: "canary-submitted", jobId: job.jobId, jobQueue, fallback, reused });
  return job;
}

function stuckReason(minutes: number, reasons: string[], onFallback: boolean): string {
  const why = reasons.length > 0 ? `: ${reasons.join("; ")}` : "";
  const where = onFallback ? " on the fallback queue too" : "";
  return `children waited in RUNNABLE for ${minutes} minutes with nothing running${where}${why}`;
}
