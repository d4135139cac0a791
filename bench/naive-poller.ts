import { BatchClient, DescribeJobsCommand, ListJobsCommand, type JobStatus } from "@aws-sdk/client-batch";

/** DescribeJobs takes at most 100 job ids per call. */
export const DESCRIBE_BATCH = 100;
/** With a jobStatus, ListJobs returns at most 1,000 jobs per page: the fewest pages it allows. */
export const LIST_PAGE = 1_000;
/**
 * Without a jobStatus, ListJobs returns only RUNNING children, and its `filters` (which would
 * return every status) do not apply to array children: learning all child ids takes one
 * listing per status.
 */
export const CHILD_STATUSES: readonly JobStatus[] = ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"];

export interface NaivePoll {
  /** Children the poll saw, by status (from DescribeJobs). */
  counts: Record<string, number>;
  described: number;
}

/**
 * The way batchship does not poll: every poll lists the array's children (all statuses, all
 * pages, the biggest page AWS allows) and describes every one of them, 100 per DescribeJobs.
 * It is written to be as cheap as this approach can be, so the comparison flatters it.
 */
export async function naivePoll(batch: BatchClient, arrayJobId: string): Promise<NaivePoll> {
  const ids: string[] = [];
  for (const jobStatus of CHILD_STATUSES) {
    let nextToken: string | undefined;
    do {
      const page = await batch.send(
        new ListJobsCommand({ arrayJobId, jobStatus, maxResults: LIST_PAGE, ...(nextToken === undefined ? {} : { nextToken }) }),
      );
      for (const job of page.jobSummaryList ?? []) if (job.jobId !== undefined) ids.push(job.jobId);
      nextToken = page.nextToken;
    } while (nextToken);
  }

  const counts: Record<string, number> = {};
  let described = 0;
  for (let start = 0; start < ids.length; start += DESCRIBE_BATCH) {
    const output = await batch.send(new DescribeJobsCommand({ jobs: ids.slice(start, start + DESCRIBE_BATCH) }));
    for (const job of output.jobs ?? []) {
      const status = job.status ?? "UNKNOWN";
      counts[status] = (counts[status] ?? 0) + 1;
      described++;
    }
  }
  return { counts, described };
}

/**
 * What one naive poll costs for an array of `size` children spread over `statusCounts`: one
 * listing per status (an empty status still takes its one call), plus DescribeJobs in 100s.
 * Used only to state the figure for a size the emulator could not hold, labelled as computed.
 */
export function naiveCallsPerPoll(size: number, statusCounts: Partial<Record<JobStatus, number>> = { RUNNING: size }): number {
  const listCalls = CHILD_STATUSES.reduce((sum, status) => sum + Math.max(1, Math.ceil((statusCounts[status] ?? 0) / LIST_PAGE)), 0);
  return listCalls + Math.ceil(size / DESCRIBE_BATCH);
}
