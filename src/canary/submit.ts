import { BatchshipError } from "../errors.js";
import type { EngineContext } from "../release/context.js";
import { findOrCreate } from "../release/find-or-create.js";
import type { JobState, SubmitJobRequest } from "../release/ports.js";

/**
 * Submits the canary job once. SubmitJob has no idempotency token, so the job name (derived
 * from the release id) is the key: an existing job with that name on the queue is this
 * release's canary, whatever its state.
 */
export async function ensureCanaryJob(
  ctx: EngineContext,
  request: SubmitJobRequest,
): Promise<{ job: JobState; reused: boolean }> {
  const { platform } = ctx.backend;
  const { value, created } = await findOrCreate<JobState | string>(
    ctx,
    async () => (await platform.findJobs(request.jobQueue, request.jobName))[0],
    async () => (await platform.submitJob(request)).jobId,
  );
  if (typeof value !== "string") return { job: value, reused: !created };
  return { job: await describeSubmitted(ctx, value), reused: false };
}

/**
 * Once SubmitJob answered, the job exists: wait for it to be visible rather than ever
 * submitting again (reads can lag a write for a moment).
 */
async function describeSubmitted(ctx: EngineContext, jobId: string): Promise<JobState> {
  for (let attempt = 1; ; attempt++) {
    const job = await ctx.backend.platform.describeJob(jobId);
    if (job !== undefined) return job;
    if (attempt >= ctx.polling.retryAttempts) {
      throw new BatchshipError("AWS", `Submitted canary job ${jobId}, but Batch does not describe it`, {
        retryable: true,
        hint: "run the release again: it finds the job by name and follows it",
      });
    }
    await ctx.sleep(ctx.polling.retryDelayMs * attempt);
  }
}
