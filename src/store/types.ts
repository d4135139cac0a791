/** What the store holds, as the rest of the service sees it (rows are mapped, never leaked). */

export type DeliveryOutcome = "accepted" | "ignored" | "ping";

export interface DeliveryRecord {
  id: string;
  event: string;
  receivedAt: number;
  outcome: DeliveryOutcome;
  /** The HTTP status the delivery was answered with; a redelivery gets the same. */
  httpStatus: number;
  reason?: string;
  repository?: string;
  ref?: string;
  after?: string;
  /**
   * What the delivery says, as a key: a second delivery with the same key is a copy (two
   * webhooks for one repository, a replayed body: the delivery id is not signed) and queues nothing.
   */
  contentKey?: string;
}

/**
 * `promoting`: a promotion through the API is in flight (from `awaiting-promotion`, to `promoted`).
 * `cancelled`: `batchship cancel` (or the API) stopped its build or canary.
 */
export type ReleaseState = "queued" | "running" | "superseded" | "promoted" | "awaiting-promotion" | "promoting" | "failed" | "cancelled";

export const FINAL_STATES: readonly ReleaseState[] = ["superseded", "promoted", "awaiting-promotion", "failed", "cancelled"];

export interface NewRelease {
  /** The engine's release id, `<pipeline>-<sha12>`: one commit of one pipeline is one release. */
  id: string;
  pipeline: string;
  repository: string;
  commit: string;
  branch: string;
  cloneUrl: string;
  /** The parsed spec, frozen when the push arrived, so a resume builds exactly what was queued. */
  specJson: string;
  deliveryId: string;
  /** Build the image even when one with the same content exists (asked for through the API). */
  rebuild?: boolean;
}

/**
 * The image a release ended with. `key`: its content key. `reusedFrom`: nothing was built; the
 * key tag the image was found under, and `reusedFromCommit` the commit whose release built it,
 * when this service ran that release.
 */
export interface ReleaseImage {
  uri: string;
  digest: string;
  key?: string;
  reusedFrom?: string;
  reusedFromCommit?: string;
}

export interface ReleaseRecord extends NewRelease {
  rebuild: boolean;
  seq: number;
  status: ReleaseState;
  stage: string | null;
  supersededBy: string | null;
  attempts: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
  buildId: string | null;
  image: ReleaseImage | null;
  candidateArn: string | null;
  canaryJobId: string | null;
  canary: unknown;
  production: { arn: string; revision: number } | null;
  error: { code: string; message: string; hint?: string } | null;
  /** Queued again by an explicit retry whose new attempt has not begun yet. */
  retry: boolean;
}

/** What a finished engine run leaves on the release row. */
export interface ReleaseOutcome {
  status: Extract<ReleaseState, "promoted" | "awaiting-promotion" | "superseded" | "failed" | "cancelled">;
  /** `superseded`: the release of the commit that won instead, when there is one. */
  supersededBy?: string | null;
  buildId?: string | null;
  image?: ReleaseImage | null;
  candidateArn?: string | null;
  canary?: unknown;
  production?: { arn: string; revision: number } | null;
  error?: { code: string; message: string; hint?: string } | null;
}

export interface StageEventRecord {
  id: number;
  releaseId: string;
  at: number;
  type: string;
  stage: string | null;
  data: Record<string, unknown>;
}

export type CommitState = "pending" | "success" | "failure" | "error";

export interface NewStatusReport {
  releaseId: string;
  repository: string;
  commit: string;
  context: string;
  state: CommitState;
  description: string;
  targetUrl: string;
}

export interface StatusReportRecord extends NewStatusReport {
  id: number;
  attempts: number;
}

export type ReconcileState = "queued" | "running" | "done" | "failed";

export interface NewReconcile {
  pipeline: string;
  /** The spec as loaded when the push arrived, like a release's. */
  specJson: string;
  deliveryId: string;
}

export interface ReconcileJob extends NewReconcile {
  id: number;
  status: ReconcileState;
  attempts: number;
  createdAt: number;
  nextAttemptAt: number;
}

/** A reconcile as stored, with how it ended (or why it is to run again). */
export interface StoredReconcile extends ReconcileJob {
  finishedAt: number | null;
  lastError: string | null;
  resultJson: string | null;
}
