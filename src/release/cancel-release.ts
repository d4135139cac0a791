import { isTerminal } from "../canary/counts.js";
import { STOP_REASON, stopTag } from "../canary/stop-reasons.js";
import { BatchshipError } from "../errors.js";
import type { PipelineSpec } from "../spec/schema.js";
import { canaryAttemptOf } from "./canary-attempt.js";
import type { EngineContext } from "./context.js";
import { candidateName } from "./job-definition.js";
import type { JobDefinitionRevision, JobState } from "./ports.js";
import { canaryJobName, releaseIdFor } from "./release-id.js";
import { findRevision } from "./revision-lookup.js";
import { CANARY_RETRYING, TAG } from "./tags.js";

export interface CancelResult {
  releaseId: string;
  pipeline: string;
  commit: string;
  /** The build that was stopped, if the release was building. */
  build: { id: string } | null;
  /** The candidate marked cancelled, and the canary jobs that were stopped. */
  canary: { candidateArn: string; attempt: number; stoppedJobs: string[] } | null;
}

/**
 * `batchship cancel`: stops a release's running build or canary. The candidate is marked
 * `batchship:canary=cancelled` before its jobs are stopped, so the run following the canary —
 * here or on another machine — reports `cancelled` whatever the job ended as, and a later run
 * reports the cancel again instead of starting a canary (`release --retry` starts a new one).
 * A build is stopped through the builder; the run following it reports the stopped build as
 * the cancel.
 */
export async function cancelRelease(ctx: EngineContext, spec: PipelineSpec, commit: string): Promise<CancelResult> {
  const releaseId = releaseIdFor(spec.name, commit);
  const result: CancelResult = { releaseId, pipeline: spec.name, commit, build: null, canary: null };
  const { found: candidate } = await findRevision(ctx.backend.platform, candidateName(spec), (revision) => revision.tags[TAG.release] === releaseId, true);

  if (candidate !== undefined) {
    const verdict = candidate.tags[TAG.canary];
    if (verdict !== undefined && verdict !== CANARY_RETRYING) {
      throw nothingToCancel(releaseId, `its canary already ended: ${verdict}`, verdict === "passed" ? undefined : retryHint(commit));
    }
    result.canary = await cancelCanary(ctx, spec, releaseId, candidate);
    return result;
  }

  const build = await ctx.backend.builder.findBuild({
    releaseId,
    commit,
    project: spec.build.project,
    imageRepositoryUri: spec.image.repository,
    imageTags: [],
    dockerfile: spec.image.dockerfile,
    context: spec.image.context,
    buildArgs: spec.image.buildArgs,
    timeoutMinutes: spec.build.timeoutMinutes,
  });
  if (build === undefined || build.status !== "in-progress") {
    const why = build === undefined ? "no build or canary of it is running" : `its build ${build.id} already ended (${build.status})`;
    throw nothingToCancel(releaseId, why, build?.status === "failed" ? retryHint(commit) : undefined);
  }
  const { stopBuild } = ctx.backend.builder;
  if (stopBuild === undefined) {
    throw new BatchshipError("ENVIRONMENT", `Could not cancel ${releaseId}: this backend cannot stop a build from another process`, {
      hint: "a local build runs inside the release's own process: stop that process (Ctrl-C)",
    });
  }
  await stopBuild(build.id);
  result.build = { id: build.id };
  return result;
}

async function cancelCanary(
  ctx: EngineContext,
  spec: PipelineSpec,
  releaseId: string,
  candidate: JobDefinitionRevision,
): Promise<NonNullable<CancelResult["canary"]>> {
  const { platform } = ctx.backend;
  const attempt = canaryAttemptOf(candidate);
  const queues: Array<[string, boolean]> = [[spec.canary.jobQueue, false]];
  if (spec.canary.fallbackJobQueue !== undefined) queues.push([spec.canary.fallbackJobQueue, true]);
  const jobs: JobState[] = [];
  for (const [queue, fallback] of queues) {
    const [job] = await platform.findJobs(queue, canaryJobName(releaseId, fallback, attempt));
    if (job !== undefined) jobs.push(job);
  }
  // The newest job is the one a verdict would have been recorded for (the fallback, when used).
  const newest = jobs.at(-1);
  // Recorded before the stops: stopping an array job is asynchronous, and a resumed run knows a
  // job batchship stopped by this record, not by what the job says.
  await platform.tagJobDefinition(candidate.arn, {
    [TAG.canary]: "cancelled",
    ...(newest === undefined ? {} : { [TAG.canaryJob]: newest.jobId }),
    ...Object.assign({}, ...jobs.map((job) => stopTag(job, "cancelled"))),
  });
  const stoppedJobs: string[] = [];
  for (const job of jobs) {
    if (isTerminal(job)) continue;
    await platform.stopJob(job.jobId, STOP_REASON.cancelled);
    stoppedJobs.push(job.jobId);
  }
  return { candidateArn: candidate.arn, attempt, stoppedJobs };
}

function nothingToCancel(releaseId: string, why: string, hint: string | undefined): BatchshipError {
  return new BatchshipError("NOTHING_TO_CANCEL", `Nothing to cancel for ${releaseId}: ${why}`, hint === undefined ? {} : { hint });
}

function retryHint(commit: string): string {
  return `run \`batchship release --pipeline <file> --commit ${commit} --retry\` to try it again`;
}
