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
 * resumed run that batchship stopped it. A fallback job's name ends in `-fallback`
 * (canaryJobName), which is how its record gets a key of its own.
 */
export function stopTag(job: Pick<JobState, "jobId" | "jobName">, kind: StopKind): Record<string, string> {
  const key = job.jobName.endsWith("-fallback") ? TAG.stoppedFallback : TAG.stoppedPrimary;
  return { [key]: `${kind}:${job.jobId}` };
}

/** Why batchship stopped this job, as recorded on the candidate, or undefined when it did not. */
export function recordedStop(candidateTags: Readonly<Record<string, string>>, jobId: string): StopKind | undefined {
  for (const key of [TAG.stoppedPrimary, TAG.stoppedFallback]) {
    const record = candidateTags[key];
    if (record === undefined) continue;
    const separator = record.indexOf(":");
    const kind = record.slice(0, separator);
    if (separator > 0 && record.slice(separator + 1) === jobId && kind in STOP_REASON) return kind as StopKind;
  }
  return undefined;
}

/**
 * Whether a child failed because batchship stopped it (its own reason is the one given to the
 * stop). Such a child explains nothing about the image.
 */
export function stoppedByBatchship(job: Pick<JobState, "status" | "statusReason">): boolean {
  return job.status === "FAILED" && Object.values<string>(STOP_REASON).includes(job.statusReason ?? "");
}

