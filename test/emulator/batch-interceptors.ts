import type { ChildLogs } from "./child-logs.js";
import type { Interceptor, Interceptors } from "./interceptor.js";
import type { EventBridgeStandIn } from "./event-bridge.js";
import type { JobLifecycle } from "./job-scripts.js";
import { overlayJobDetail, overlayJobSummary } from "./job-overlay.js";
import { isOk, replyJson, withJsonBody } from "./reply.js";
import { errorReply } from "./aws-errors.js";

/** DescribeJobs and BatchGetBuilds take at most this many ids (moto takes any number). */
export const MAX_IDS_PER_CALL = 100;

/** Batch operations whose answers the scripted job lifecycle changes. */
export function batchInterceptors(lifecycle: JobLifecycle, childLogs?: ChildLogs, events?: EventBridgeStandIn): Interceptors {
  const stop: Interceptor = async ({ call, forward }) => {
    const reply = await forward();
    // moto leaves a job it already ran as SUCCEEDED; the scripted job is the one to stop.
    const found = lifecycle.locate(String(call.input.jobId));
    if (isOk(reply) && found) found.job.stop(String(call.input.reason ?? ""), found.index);
    return reply;
  };

  return {
    "batch.SubmitJob": async ({ call, forward }) => {
      const reply = await forward();
      const body = replyJson(reply);
      if (isOk(reply) && body?.jobId) {
        const job = lifecycle.submitted(String(call.input.jobQueue), body.jobId, String(call.input.jobName), call.input.arrayProperties?.size);
        events?.jobSubmitted(job, { jobName: String(call.input.jobName), jobQueue: String(call.input.jobQueue) });
      }
      return reply;
    },

    "batch.DescribeJobs": async ({ call, forward }) => {
      const ids: unknown[] = Array.isArray(call.input.jobs) ? call.input.jobs : [];
      if (ids.length > MAX_IDS_PER_CALL) {
        return errorReply(call.protocol, 400, "ClientException", `1 validation error detected: Value at 'jobs' failed to satisfy constraint: Member must have length less than or equal to ${MAX_IDS_PER_CALL}`);
      }
      const reply = await forward();
      const body = replyJson(reply);
      if (!isOk(reply) || !Array.isArray(body?.jobs)) return reply;
      // Each DescribeJobs of a parent is one tick of its scripted progress.
      const ticked = new Set<unknown>();
      for (const job of body.jobs) {
        const found = lifecycle.locate(String(job.jobId));
        if (found && found.index === undefined && !ticked.has(found.job)) {
          ticked.add(found.job);
          found.job.observe();
        }
      }
      const jobs = body.jobs.filter((job: { jobId?: unknown }) => !lifecycle.expired(String(job.jobId))).map((job: unknown) => overlayJobDetail(lifecycle, job));
      // Their output, as the containers would have written it by now.
      if (childLogs !== undefined) for (const job of jobs) childLogs.observe(job);
      return withJsonBody(reply, { ...body, jobs });
    },

    "batch.ListJobs": async ({ call, forward }) => {
      // moto filters on its own statuses and ignores paging; both are redone here on the overlaid list.
      const { jobStatus, maxResults, nextToken, ...rest } = call.input;
      const reply = await forward(rest);
      const body = replyJson(reply);
      if (!isOk(reply) || !Array.isArray(body?.jobSummaryList)) return reply;
      let items: any[] = body.jobSummaryList.filter((summary: { jobId?: unknown }) => !lifecycle.expired(String(summary.jobId))).map((summary: unknown) => overlayJobSummary(lifecycle, summary));
      // As on AWS, a filters list makes jobStatus ignored.
      const hasFilters = Array.isArray(rest.filters) && rest.filters.length > 0;
      if (jobStatus && !hasFilters) items = items.filter((item) => item.status === jobStatus);
      return withJsonBody(reply, page(items, maxResults, nextToken));
    },

    "batch.CancelJob": stop,
    "batch.TerminateJob": stop,
  };
}

function page(items: any[], maxResults: unknown, nextToken: unknown): { jobSummaryList: any[]; nextToken?: string } {
  const offset = typeof nextToken === "string" ? Number(Buffer.from(nextToken, "base64url").toString()) || 0 : 0;
  const size = typeof maxResults === "number" && maxResults > 0 ? maxResults : items.length;
  const slice = items.slice(offset, offset + size);
  const next = offset + size;
  return next < items.length ? { jobSummaryList: slice, nextToken: Buffer.from(String(next)).toString("base64url") } : { jobSummaryList: slice };
}
