import { JOB_STATUSES, type JobState, type StatusCounts } from "../release/ports.js";

export function emptyCounts(): StatusCounts {
  return Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as StatusCounts;
}

/** Per-state counts for an array job, or a count of one for a single job. */
export function countsOf(job: JobState): StatusCounts {
  if (job.childCounts) return job.childCounts;
  const counts = emptyCounts();
  counts[job.status] = 1;
  return counts;
}

export function sameCounts(a: StatusCounts | undefined, b: StatusCounts): boolean {
  return a !== undefined && JOB_STATUSES.every((s) => a[s] === b[s]);
}

export function isTerminal(job: JobState): boolean {
  return job.status === "SUCCEEDED" || job.status === "FAILED";
}

/** "2 RUNNING, 1 SUCCEEDED" — only the states that have children. */
export function formatCounts(counts: StatusCounts): string {
  const parts = JOB_STATUSES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  return parts.length > 0 ? parts.join(", ") : "no children reported yet";
}
