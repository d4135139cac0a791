import { runCanary, type CanaryResult } from "../canary/run-canary.js";
import { BatchshipError } from "../errors.js";
import type { PipelineSpec } from "../spec/schema.js";
import { branchMatches, renderTags } from "../spec/templates.js";
import type { EngineContext } from "./context.js";
import type { JobDefinitionRevision } from "./ports.js";
import { releaseIdFor } from "./release-id.js";
import type { ReleaseResult, StageRecord } from "./result.js";
import { buildImage, type BuiltImage } from "./stages/build.js";
import { registerCandidate } from "./stages/candidate.js";
import { promoteCandidate } from "./stages/promote.js";
import { timed } from "./stage-timer.js";
import { TAG } from "./tags.js";

export interface ReleaseRequest {
  /** The spec as it is at `commit`. */
  spec: PipelineSpec;
  commit: string;
  branch: string;
}

/**
 * One release, stage by stage. Every stage first looks for what an earlier run of the same
 * release already did (in the registry, in job definition tags, by job name) and continues from
 * there, so running it again — after a crash, a retry, on another machine — finishes the
 * release without a second build, registration, canary or promotion.
 *
 * Every failure batchship understands (build, canary, deadline, AWS errors after retries) ends
 * in a result with status "failed" and an error carrying its code, so callers report what was
 * done so far; only bugs are thrown.
 */
export async function runRelease(ctx: EngineContext, request: ReleaseRequest): Promise<ReleaseResult> {
  const { spec, commit, branch } = request;
  const releaseId = releaseIdFor(spec.name, commit);
  const stages: StageRecord[] = [];
  const result: ReleaseResult = {
    releaseId,
    pipeline: spec.name,
    commit,
    branch,
    status: "failed",
    build: null,
    image: null,
    candidate: null,
    canary: null,
    production: null,
    stages,
  };

  try {
    if (!branchMatches(spec.source.branches, branch)) {
      throw new BatchshipError("USAGE", `Branch ${JSON.stringify(branch)} is not tracked by pipeline ${spec.name}`, {
        hint: `source.branches is ${JSON.stringify(spec.source.branches)}; release a commit of one of those branches`,
      });
    }
    const image: BuiltImage = await timed(ctx, stages, "build", async () => {
      const built = await buildImage(ctx, { spec, releaseId, commit, tags: renderTags(spec.image.tags, { sha: commit, branch }) });
      return { value: built, reused: built.build === null, detail: built.uri };
    });
    result.build = image.build;
    result.image = { uri: image.uri, digest: image.digest };
    ctx.observe({ type: "image-resolved", uri: image.uri, digest: image.digest });

    const candidate = await timed(ctx, stages, "candidate", async () => {
      const { revision, reused } = await registerCandidate(ctx, { spec, releaseId, commit, imageUri: image.uri, digest: image.digest });
      ctx.observe({ type: "candidate-registered", arn: revision.arn, revision: revision.revision, reused });
      return { value: revision, reused, detail: `${revision.name}:${revision.revision}` };
    });
    result.candidate = { arn: candidate.arn, revision: candidate.revision };

    const canary = await timed(ctx, stages, "canary", async () => {
      const outcome = await runCanary(ctx, { spec, releaseId, commit, candidate });
      return { value: outcome, detail: outcome.reason ?? outcome.result };
    });
    result.canary = canarySummary(canary);
    const judged = await recordVerdict(ctx, candidate, canary);
    if (canary.result === "failed") {
      result.error = {
        code: "CANARY_FAILED",
        message: `Canary ${canary.jobId} failed: ${canary.reason ?? "see its children"}`,
        retryable: false,
        ...(canary.hint === undefined ? {} : { hint: canary.hint }),
      };
      return result;
    }

    if (spec.promotion.mode === "manual") {
      result.status = "awaiting-promotion";
      return result;
    }
    const production = await timed(ctx, stages, "promote", async () => {
      const { revision, reused } = await promoteCandidate(ctx, spec.jobDefinition.name, judged);
      ctx.observe({ type: "promoted", arn: revision.arn, revision: revision.revision, reused });
      return { value: revision, reused, detail: `${revision.name}:${revision.revision}` };
    });
    result.production = { arn: production.arn, revision: production.revision };
    result.status = "promoted";
    return result;
  } catch (error) {
    if (error instanceof BatchshipError) {
      result.error = errorFields(error);
      return result;
    }
    throw error;
  }
}

/** The canary's verdict lives on the candidate revision, where `promote` reads it later. */
async function recordVerdict(
  ctx: EngineContext,
  candidate: JobDefinitionRevision,
  canary: CanaryResult,
): Promise<JobDefinitionRevision> {
  const tags = { [TAG.canary]: canary.result, [TAG.canaryJob]: canary.jobId };
  if (candidate.tags[TAG.canary] !== tags[TAG.canary] || candidate.tags[TAG.canaryJob] !== tags[TAG.canaryJob]) {
    await ctx.backend.platform.tagJobDefinition(candidate.arn, tags);
  }
  return { ...candidate, tags: { ...candidate.tags, ...tags } };
}

function canarySummary(canary: CanaryResult): NonNullable<ReleaseResult["canary"]> {
  const { jobId, jobQueue, summary, result, fallbackUsed, failedChildren, reason } = canary;
  return { jobId, jobQueue, summary, result, fallbackUsed, failedChildren, ...(reason === undefined ? {} : { reason }) };
}

export function errorFields(error: BatchshipError): NonNullable<ReleaseResult["error"]> {
  return {
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    ...(error.hint === undefined ? {} : { hint: error.hint }),
    ...(error.awsErrorName === undefined ? {} : { awsErrorName: error.awsErrorName }),
  };
}

