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

/**
 * The counts a judgement may rest on, or undefined while the parent's statusSummary is not
 * settled. Batch updates the summary apart from the parent's status: it can lag the children
 * (statusSummaryLastUpdatedAt older than the parent's end) or miss children between states
 * (counts that do not add up to the array size). Judged on such counts, a canary whose children
 * all succeeded would fail; the next poll sees them settled.
 */
export function settledCounts(job: JobState): StatusCounts | undefined {
  if (job.arraySize === undefined) return countsOf(job);
  const counts = job.childCounts;
  if (counts === undefined) return undefined;
  if (total(counts) !== job.arraySize) return undefined;
  if (!isTerminal(job)) return counts;
  if (counts.SUCCEEDED + counts.FAILED !== job.arraySize) return undefined;
  const olderThanEnd = job.childCountsAt !== undefined && job.stoppedAt !== undefined && job.childCountsAt < job.stoppedAt;
  return olderThanEnd ? undefined : counts;
}

function total(counts: StatusCounts): number {
  return JOB_STATUSES.reduce((sum, status) => sum + counts[status], 0);
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
