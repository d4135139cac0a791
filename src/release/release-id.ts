import { BatchshipError } from "../errors.js";

const SHA = /^[0-9a-f]{40}$/;

export function assertCommitSha(commit: string): void {
  if (!SHA.test(commit)) {
    throw new BatchshipError("USAGE", `Invalid commit "${commit}": expected a full 40-character hex sha`);
  }
}

/**
 * A release is one commit of one pipeline. The id is derived, not stored, so every run for the
 * same commit — a retry, a crash resume, `promote` from another machine — names the same
 * CodeBuild idempotency token, the same tags and the same canary job.
 */
export function releaseIdFor(pipeline: string, commit: string): string {
  assertCommitSha(commit);
  return `${pipeline}-${commit.slice(0, 12)}`;
}

/**
 * Batch job names: up to 128 letters, digits, hyphens and underscores. Each canary attempt of a
 * release (an explicit retry starts the next) has its own name, so a run finds the job of the
 * attempt it continues and never one of an earlier attempt.
 */
export function canaryJobName(releaseId: string, fallback = false, attempt = 1): string {
  const retry = attempt > 1 ? `-attempt-${attempt}` : "";
  return `batchship-${releaseId}${retry}${fallback ? "-fallback" : ""}`;
}
