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
  candidate: "batchship:candidate",
  rollbackOf: "batchship:rollback-of",
  /**
   * On a production revision: the production revision it was registered over, as its promoter
   * saw it. Revisions numbered between the two were registered concurrently (promotion-order.ts).
   */
  replaces: "batchship:replaces",
  /** GitOps: the ledger commit whose release record this production revision was registered from. */
  recordCommit: "batchship:record-commit",
} as const;

export type CanaryVerdict = "passed" | "failed";
