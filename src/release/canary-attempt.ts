import type { EngineContext } from "./context.js";
import type { JobDefinitionRevision } from "./ports.js";
import { findRevision } from "./revision-lookup.js";
import { CANARY_RETRYING, TAG } from "./tags.js";

/** The canary attempt a candidate's tags speak of: 1 until an explicit retry. */
export function canaryAttemptOf(candidate: JobDefinitionRevision): number {
  const attempt = Number(candidate.tags[TAG.canaryAttempt] ?? "1");
  return Number.isInteger(attempt) && attempt >= 1 ? attempt : 1;
}

/** A verdict an explicit retry replaces with a new attempt; a passed canary is never run again. */
export function isRetryable(candidate: JobDefinitionRevision): boolean {
  const verdict = candidate.tags[TAG.canary];
  return verdict === "failed" || verdict === "cancelled";
}

/**
 * An explicit retry of a release whose canary failed or was cancelled: the candidate moves to
 * the next attempt, whose job has a name of its own. Both tags are written in one call, so a
 * run that dies after it continues the new attempt (found by its job name) and a second retry
 * request while that attempt has no verdict yet starts nothing more.
 */
export async function beginCanaryRetry(ctx: EngineContext, candidate: JobDefinitionRevision): Promise<JobDefinitionRevision> {
  if (!isRetryable(candidate)) return candidate;
  const attempt = canaryAttemptOf(candidate) + 1;
  const tags = { [TAG.canaryAttempt]: String(attempt), [TAG.canary]: CANARY_RETRYING };
  await ctx.backend.platform.tagJobDefinition(candidate.arn, tags);
  ctx.observe({ type: "warning", message: `retrying the canary: attempt ${attempt} (the earlier verdict was ${candidate.tags[TAG.canary]})` });
  return { ...candidate, tags: { ...candidate.tags, ...tags } };
}

/** The candidate's tags as they are now: `batchship cancel` may have marked it while its canary ran. */
export async function currentCandidate(ctx: EngineContext, candidate: JobDefinitionRevision): Promise<JobDefinitionRevision> {
  const { found } = await findRevision(ctx.backend.platform, candidate.name, (revision) => revision.arn === candidate.arn, true);
  return found ?? candidate;
}
