import { countsOf, isTerminal } from "../canary/counts.js";
import { runCanary, startCanary, type CanaryInput, type CanaryResult } from "../canary/run-canary.js";
import { BatchshipError } from "../errors.js";
import type { PipelineSpec } from "../spec/schema.js";
import { branchMatches, renderTags } from "../spec/templates.js";
import { beginCanaryRetry, canaryAttemptOf, currentCandidate } from "./canary-attempt.js";
import type { EngineContext } from "./context.js";
import type { JobDefinitionRevision } from "./ports.js";
import { releaseIdFor } from "./release-id.js";
import { retainAfterRelease } from "./retention.js";
import { startedResult, type ReleaseResult } from "./result.js";
import { buildImage, type BuiltImage } from "./stages/build.js";
import type { BuildSources } from "./content-key.js";
import { registerCandidate } from "./stages/candidate.js";
import { promotionHold } from "./gitops/hold.js";
import { promoteToProduction } from "./stages/promote-to-production.js";
import { notTheHead, type Supersession } from "./stages/promotion-order.js";
import { timed } from "./stage-timer.js";
import { CANARY_RETRYING, TAG } from "./tags.js";

export interface ReleaseRequest {
  /** The spec as it is at `commit`. */
  spec: PipelineSpec;
  commit: string;
  branch: string;
  /**
   * false: return once the candidate is registered and the canary submitted, with status
   * "canary-running"; a later run of the same release (waiting) follows that canary to the end.
   * Default true.
   */
  wait?: boolean;
  /** The commit's build sources (src/git/build-sources.ts); without them the image is never reused. */
  sources?: BuildSources;
  /** Build even when an image of the same content exists (`--rebuild`). */
  rebuild?: boolean;
  /**
   * An explicit retry: a failed build is built again, and a canary that failed or was cancelled
   * gets a new attempt (a new job) on the same candidate. Without it, a release that failed
   * reports its failure again. Each attempt still runs exactly once.
   */
  retry?: boolean;
}

/**
 * One release, stage by stage. Every stage first looks for what an earlier run of the same
 * release already did (in the registry, in job definition tags, by job name) and continues from
 * there, so running it again — after a crash, a retry, on another machine — finishes the
 * release without a second build, registration, canary or promotion.
 *
 * Every failure batchship understands (build, canary, deadline, AWS errors after retries) ends
 * in a result with status "failed" and an error carrying its code, so callers report what was
 * done so far; only bugs, and the caller's own `ReleaseInterrupted`, are thrown.
 */
export async function runRelease(ctx: EngineContext, request: ReleaseRequest): Promise<ReleaseResult> {
  const result = await releaseStages(ctx, request);
  // Retention at the end of every release that registered a candidate and is over: history stays
  // short without a separate job. A release still waiting on its canary prunes when it ends.
  if (result.candidate !== null && result.status !== "canary-running") await retainAfterRelease(ctx, request.spec);
  return result;
}

async function releaseStages(ctx: EngineContext, request: ReleaseRequest): Promise<ReleaseResult> {
  const { spec, commit, branch } = request;
  const releaseId = releaseIdFor(spec.name, commit);
  const result = startedResult({ releaseId, pipeline: spec.name, commit, branch });
  const stages = result.stages;

  try {
    if (!branchMatches(spec.source.branches, branch)) {
      throw new BatchshipError("USAGE", `Branch ${JSON.stringify(branch)} is not tracked by pipeline ${spec.name}`, {
        hint: `source.branches is ${JSON.stringify(spec.source.branches)}; release a commit of one of those branches`,
      });
    }
    const image: BuiltImage = await timed(ctx, stages, "build", async () => {
      const built = await buildImage(ctx, {
        spec,
        releaseId,
        commit,
        tags: renderTags(spec.image.tags, { sha: commit, branch }),
        ...(request.sources === undefined ? {} : { sources: request.sources }),
        ...(request.rebuild === true ? { rebuild: true } : {}),
        ...(request.retry === true ? { retry: true } : {}),
      });
      const detail = built.reusedFrom === undefined ? built.uri : `${built.uri} (same content as ${built.reusedFrom})`;
      return { value: built, reused: built.build === null, detail };
    });
    result.build = image.build;
    result.image = {
      uri: image.uri,
      digest: image.digest,
      ...(image.key === undefined ? {} : { key: image.key }),
      ...(image.reusedFrom === undefined ? {} : { reusedFrom: image.reusedFrom }),
    };
    ctx.observe({ type: "image-resolved", uri: image.uri, digest: image.digest });

    // A candidate first registered by this run belongs to a release that was never promoted (one
    // registered again over a deregistered one may have been).
    let candidateIsNew = false;
    const candidate = await timed(ctx, stages, "candidate", async () => {
      const imageIsNew = image.build !== null || image.reusedFrom !== undefined;
      const { revision, reused, carried } = await registerCandidate(ctx, { spec, releaseId, commit, imageUri: image.uri, digest: image.digest, imageIsNew });
      candidateIsNew = !reused && !carried;
      ctx.observe({ type: "candidate-registered", arn: revision.arn, revision: revision.revision, reused });
      return { value: revision, reused, detail: `${revision.name}:${revision.revision}` };
    });
    result.candidate = { arn: candidate.arn, revision: candidate.revision };

    const attempting = request.retry === true ? await beginCanaryRetry(ctx, candidate) : candidate;
    const canaryInput = { spec, releaseId, commit, candidate: attempting, attempt: canaryAttemptOf(attempting) };
    const canary = await timed(ctx, stages, "canary", async () => {
      const outcome = request.wait === false ? await canaryWithoutWaiting(ctx, canaryInput) : await runCanary(ctx, canaryInput);
      return { value: outcome, detail: outcome.reason ?? outcome.result };
    });
    result.canary = canarySummary(canary);
    if (canary.result === "running") {
      result.status = "canary-running";
      return result;
    }
    const verdict = await cancelledMeanwhile(ctx, attempting, canary);
    const judged = await recordVerdict(ctx, attempting, verdict);
    if (verdict.result === "cancelled") {
      result.canary = canarySummary(verdict);
      result.status = "cancelled";
      result.error = {
        code: "CANCELLED",
        message: `Canary ${verdict.jobId} was cancelled`,
        retryable: false,
        hint: "release the commit again with --retry to run a new canary",
      };
      return result;
    }
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
    // GitOps: after a rollback, automatic promotion waits for a person (docs/gitops.md).
    const hold = await promotionHold(ctx, spec);
    if (hold !== null) {
      result.status = "awaiting-promotion";
      result.hold = { reason: hold.reason, by: hold.by, at: hold.at };
      return result;
    }
    // Production moves only to the branch's head: an older commit's canary may pass after a newer push.
    const notHead = await notTheHead(ctx, commit, branch);
    if (notHead !== null) return superseded(ctx, result, notHead);
    const promotion = await timed(ctx, stages, "promote", async () => {
      const outcome = await promoteToProduction(ctx, spec, judged, {
        by: "batchship (automatic: canary passed)",
        person: false,
        canary: { jobId: canary.jobId, summary: canary.summary },
        order: "newer-only",
        neverPromoted: candidateIsNew,
      });
      const { revision, reused } = outcome;
      if (outcome.superseded === undefined) ctx.observe({ type: "promoted", arn: revision.arn, revision: revision.revision, reused });
      return { value: outcome, reused: reused || outcome.superseded !== undefined, detail: outcome.superseded?.reason ?? `${revision.name}:${revision.revision}` };
    });
    if (promotion.superseded !== undefined) return superseded(ctx, result, promotion.superseded);
    result.production = { arn: promotion.revision.arn, revision: promotion.revision.revision };
    result.status = "promoted";
    return result;
  } catch (error) {
    if (error instanceof BatchshipError) {
      result.error = error.toJSON();
      if (error.code === "CANCELLED") result.status = "cancelled";
      return result;
    }
    throw error;
  }
}

function superseded(ctx: EngineContext, result: ReleaseResult, by: Supersession): ReleaseResult {
  ctx.observe({ type: "superseded", by: by.commit, reason: by.reason });
  result.status = "superseded";
  result.supersededBy = by;
  return result;
}

type RunningCanary = Omit<CanaryResult, "result"> & { result: "running" };

/**
 * `wait: false`: submit the canary (or find it) and leave it running. A canary that has already
 * finished — this release ran before — is judged as usual, so the answer is never staler than AWS.
 */
async function canaryWithoutWaiting(ctx: EngineContext, input: CanaryInput): Promise<CanaryResult | RunningCanary> {
  const recorded = input.candidate.tags[TAG.canary];
  if (recorded === "passed" || recorded === "failed" || recorded === "cancelled") return runCanary(ctx, input);
  const { job, fallbackUsed } = await startCanary(ctx, input);
  if (isTerminal(job)) return runCanary(ctx, input);
  const { canary } = input.spec;
  return {
    jobId: job.jobId,
    jobQueue: fallbackUsed ? (canary.fallbackJobQueue ?? canary.jobQueue) : canary.jobQueue,
    fallbackUsed,
    size: job.arraySize ?? 1,
    summary: countsOf(job),
    result: "running",
    reason: "submitted; not followed (wait: false)",
    failedChildren: [],
  };
}

/**
 * `batchship cancel` marks the candidate before it stops the job, so a canary that ended while
 * the cancel ran — stopped, hopeless, even passed — is reported as the cancel the person asked for.
 */
async function cancelledMeanwhile(ctx: EngineContext, candidate: JobDefinitionRevision, canary: CanaryResult): Promise<CanaryResult> {
  const recorded = candidate.tags[TAG.canary];
  if (canary.result === "cancelled" || (recorded !== undefined && recorded !== CANARY_RETRYING)) {
    return canary;
  }
  const now = await currentCandidate(ctx, candidate);
  const marked = now.tags[TAG.canary] === "cancelled" && canaryAttemptOf(now) === canaryAttemptOf(candidate);
  return marked ? { ...canary, result: "cancelled", reason: "cancelled: batchship cancel stopped it" } : canary;
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

function canarySummary(canary: CanaryResult | RunningCanary): NonNullable<ReleaseResult["canary"]> {
  const { jobId, jobQueue, summary, result, fallbackUsed, failedChildren, reason } = canary;
  return { jobId, jobQueue, summary, result, fallbackUsed, failedChildren, ...(reason === undefined ? {} : { reason }) };
}


