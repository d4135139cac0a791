/**
 * Tag keys batchship writes on job definition revisions and jobs. They are how a later run —
 * on another machine, after a crash — finds what an earlier run created: AWS has no
 * idempotency token for RegisterJobDefinition or SubmitJob.
 */
export const TAG = {
  pipeline: "batchship:pipeline",
  commit: "batchship:commit",
  release: "batchship:release",
  specHash: "batchship:spec-hash",
  imageDigest: "batchship:image-digest",
  canary: "batchship:canary",
  canaryJob: "batchship:canary-job",
  /** Which canary attempt of the release the verdict and job tags speak of; absent: the first. */
  canaryAttempt: "batchship:canary-attempt",
  candidate: "batchship:candidate",
  rollbackOf: "batchship:rollback-of",
  /**
   * On a candidate: `<kind>:<job id>` of the canary's primary (or fallback) job batchship stopped,
   * and why. One key per role, not per job, so a candidate's tags stay within Batch's 50: a retry's
   * new attempt overwrites the record of an attempt whose verdict is final.
   */
  stoppedPrimary: "batchship:stopped",
  stoppedFallback: "batchship:stopped-fallback",
  /**
   * On a production revision: the production revision it was registered over, as its promoter
   * saw it. Revisions numbered between the two were registered concurrently (promotion-order.ts).
   */
  replaces: "batchship:replaces",
  /** GitOps: the ledger commit whose release record this production revision was registered from. */
  recordCommit: "batchship:record-commit",
  /**
   * On revision ANCHOR_REVISION of a name only (AWS backend): a recent newest revision number of
   * the name, so that a lookup in a process that has none in memory describes the newest
   * revisions in its second call (src/aws/newest-revisions.ts). A hint: never relied on.
   */
  newestRevision: "batchship:newest-revision",
} as const;

/**
 * The revision of every name that carries TAG.newestRevision. Revision 1: the search for the
 * newest revisions describes it in its first call anyway. Retention keeps a candidate name's
 * (retention-plan.ts).
 */
export const ANCHOR_REVISION = 1;

export type CanaryVerdict = "passed" | "failed" | "cancelled";

/**
 * The `batchship:canary` value between an explicit retry and the new attempt's verdict: the
 * earlier attempt's verdict no longer stands, and the new attempt has none yet.
 */
export const CANARY_RETRYING = "retrying";
