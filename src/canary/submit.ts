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
  const { value, created } = await findOrCreate(
    ctx,
    async () => (await platform.findJobs(request.jobQueue, request.jobName))[0],
    async () => {
      const { jobId } = await platform.submitJob(request);
      const job = await platform.describeJob(jobId);
      if (job === undefined) {
        throw new BatchshipError("AWS", `Submitted canary job ${jobId} but cannot describe it yet`, { retryable: true });
      }
      return job;
    },
  );
  return { job: value, reused: !created };
}
