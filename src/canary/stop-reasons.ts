import type { JobState } from "../release/ports.js";
import { TAG } from "../release/tags.js";

/** Reasons batchship gives the jobs it stops (shown by DescribeJobs and in Batch's activity log). */
export const STOP_REASON = {
  stuck: "batchship: children RUNNABLE past canary.runnableTimeoutMinutes",
  hopeless: "batchship: canary can no longer reach canary.minSuccessRate",
  deadline: "batchship: canary past canary.timeoutMinutes",
  cancelled: "batchship: release cancelled",
} as const;

export type StopKind = keyof typeof STOP_REASON;

/**
 * The candidate tag recording that batchship stopped a canary job, and why. It is written before
 * the stop: stopping an array job is asynchronous (the parent stays PENDING or RUNNING until its
 * children end) and the parent need not carry the reason given, so the job itself cannot tell a
 * resumed run that batchship stopped it.
 */
export function stopTag(jobId: string, kind: StopKind): Record<string, string> {
  return { [stopTagKey(jobId)]: kind };
}

/** Why batchship stopped this job, as recorded on the candidate, or undefined when it did not. */
export function recordedStop(candidateTags: Readonly<Record<string, string>>, jobId: string): StopKind | undefined {
  const kind = candidateTags[stopTagKey(jobId)];
  return kind !== undefined && kind in STOP_REASON ? (kind as StopKind) : undefined;
}

/**
 * Whether a child failed because batchship stopped it (its own reason is the one given to the
 * stop). Such a child explains nothing about the image.
 */
export function stoppedByBatchship(job: Pick<JobState, "status" | "statusReason">): boolean {
  return job.status === "FAILED" && Object.values<string>(STOP_REASON).includes(job.statusReason ?? "");
}

function stopTagKey(jobId: string): string {
  return `${TAG.stopped}:${jobId}`;
}
