import type { JobState } from "../release/ports.js";

/** Reasons batchship writes on jobs it stops; a resumed run reads them back. */
export const STOP_REASON = {
  stuck: "batchship: children RUNNABLE past canary.runnableTimeoutMinutes",
  hopeless: "batchship: canary can no longer reach canary.minSuccessRate",
  deadline: "batchship: canary past canary.timeoutMinutes",
  cancelled: "batchship: release cancelled",
} as const;

export type StopKind = keyof typeof STOP_REASON;

/** Why batchship stopped this job, or undefined when it did not. */
export function stopReasonOf(job: Pick<JobState, "status" | "statusReason">): StopKind | undefined {
  if (job.status !== "FAILED") return undefined;
  return (Object.keys(STOP_REASON) as StopKind[]).find((kind) => STOP_REASON[kind] === job.statusReason);
}
