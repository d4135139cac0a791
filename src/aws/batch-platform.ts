import {
  DeregisterJobDefinitionCommand,
  DescribeJobDefinitionsCommand,
  DescribeJobsCommand,
  ListJobsCommand,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
  TagResourceCommand,
  TerminateJobCommand,
  type JobDetail,
  type JobSummary,
  type ListJobsCommandInput,
} from "@aws-sdk/client-batch";
import { BatchshipError } from "../errors.js";
import type { Clock, JobPlatform, JobStatus } from "../release/ports.js";
import { ANCHOR_REVISION, TAG } from "../release/tags.js";
import type { AwsClients } from "./clients.js";
import { newestFirst, normalizeJobDefinitionBody, toJobDefinitionRevision, toJobState } from "./batch-mapping.js";
import { toRegisterJobDefinitionMembers } from "./register-job-definition.js";
import { environmentOverrides } from "./submit-overrides.js";
import { awsCall } from "./errors.js";
import { newestRevisions } from "./newest-revisions.js";
import { createBatchLoader } from "./batch-loader.js";
import { HINT_MAX_AGE_MS, type KeptRevisionHints } from "./revision-hints.js";

// DescribeJobs takes at most 100 ids per call.
const DESCRIBE_LIMIT = 100;
// ListJobs answers at most 1000 jobs a page (100 with filters).
const LIST_PAGE_LIMIT = 1000;
// Without a status, ListJobs returns only RUNNING children; this order puts the ones that
// explain a failing canary first.
const CHILD_STATUS_ORDER: JobStatus[] = ["FAILED", "RUNNING", "STARTING", "RUNNABLE", "PENDING", "SUBMITTED", "SUCCEEDED"];

export interface BatchPlatformOptions {
  /** How long a DescribeJobs waits for more jobs to describe (see batch-loader.ts); default 0. */
  batchWindowMs?: number;
  /** Where the platform says why something cost more calls than it could have; default: nowhere. */
  debug?: (message: string) => void;
  /** Newest revision numbers saved beyond this process, for its first lookup of a name; default: none. */
  revisionHints?: KeptRevisionHints;
  /** How old what the platform remembers is; default: the system clock. */
  clock?: Clock;
}

export function createBatchPlatform(clients: Pick<AwsClients, "batch" | "batchOnce">, options: BatchPlatformOptions = {}): JobPlatform {
  const { batch, batchOnce } = clients;

  async function listJobs(input: ListJobsCommandInput, operation: string, limit = Infinity): Promise<JobSummary[]> {
    const jobs: JobSummary[] = [];
    let nextToken: string | undefined;
    do {
      // Asking for no more than are needed keeps a page of a 10,000-child array small.
      const maxResults = Number.isFinite(limit) ? Math.min(limit - jobs.length, LIST_PAGE_LIMIT) : undefined;
      const page = await awsCall(operation, () =>
        batch.send(
          new ListJobsCommand({
            ...input,
            ...(maxResults === undefined ? {} : { maxResults }),
            ...(nextToken === undefined ? {} : { nextToken }),
          }),
        ),
      );
      jobs.push(...(page.jobSummaryList ?? []));
      nextToken = page.nextToken;
    } while (nextToken && jobs.length < limit);
    return jobs.slice(0, limit);
  }

  async function describeJobs(ids: string[], operation: string): Promise<JobDetail[]> {
    const details: JobDetail[] = [];
    for (let start = 0; start < ids.length; start += DESCRIBE_LIMIT) {
      const jobs = ids.slice(start, start + DESCRIBE_LIMIT);
      const output = await awsCall(operation, () => batch.send(new DescribeJobsCommand({ jobs })));
      details.push(...(output.jobs ?? []));
    }
    return details;
  }

  // Every describeJob of this platform — one per poll of each canary followed — shares DescribeJobs calls.
  const describeOne = createBatchLoader<JobDetail>({
    maxBatch: DESCRIBE_LIMIT,
    windowMs: options.batchWindowMs ?? 0,
    async load(ids) {
      const operation = ids.length === 1 ? `describe job ${ids[0]}` : `describe ${ids.length} jobs (${ids[0]}, …)`;
      const details = await describeJobs(ids, operation);
      // DescribeJobs takes ids or ARNs: answer under both.
      return new Map(details.flatMap((job) => [job.jobId, job.jobArn].flatMap((key) => (key === undefined ? [] : [[key, job] as const]))));
    },
  });

  // The newest revision number this process has seen of each name (found by a lookup, or
  // registered), and when it was last confirmed: the next lookup's hint, so that it costs one
  // call. Another process may have registered since; the search copes with a stale hint
  // (newest-revisions.ts), and one older than HINT_MAX_AGE_MS is not used (revision-hints.ts).
  const newestSeen = new Map<string, { revision: number; at: number }>();
  const now = () => (options.clock ?? Date).now();
  const recentlySeen = (name: string) => {
    const seen = newestSeen.get(name);
    return seen !== undefined && now() - seen.at <= HINT_MAX_AGE_MS ? seen.revision : undefined;
  };
  // Anchor hints read in another name's lookup (`upcoming`), for the first lookup of their name
  // only: an anchor far above the newest must not become what the process has seen.
  const anchorHints = new Map<string, number>();
  const kept = options.revisionHints;
  const saw = (name: string, revision: number) => {
    if (revision === 0 || revision < (recentlySeen(name) ?? 0)) return;
    newestSeen.set(name, { revision, at: now() });
    kept?.write(name, { revision, savedAt: now() });
  };

  /**
   * Best effort: the newest revision number, as a tag on the name's anchor revision, for the
   * first lookup of a process that has not seen the name. Failing only costs that lookup calls.
   */
  async function writeAnchor(name: string, arn: string, revision: number): Promise<void> {
    if (revision <= ANCHOR_REVISION) return;
    const anchorArn = arn.replace(/:\d+$/, `:${ANCHOR_REVISION}`);
    try {
      await batch.send(new TagResourceCommand({ resourceArn: anchorArn, tags: { [TAG.newestRevision]: String(revision) } }));
    } catch (error) {
      options.debug?.(`could not tag ${anchorArn} with ${TAG.newestRevision}=${revision} (${error instanceof Error ? error.message : String(error)}): lookups of ${name} in a new process take more calls`);
    }
  }

  const platform: JobPlatform = {
    async listJobDefinitionRevisions(name, status = "ACTIVE") {
      const operation = `list ${status} job definition revisions of ${name}`;
      const revisions = [];
      let nextToken: string | undefined;
      do {
        const page = await awsCall(operation, () =>
          batch.send(
            new DescribeJobDefinitionsCommand({
              jobDefinitionName: name,
              status,
              ...(nextToken === undefined ? {} : { nextToken }),
            }),
          ),
        );
        revisions.push(...(page.jobDefinitions ?? []).map(toJobDefinitionRevision));
        nextToken = page.nextToken;
      } while (nextToken);
      return revisions.filter((revision) => revision.name === name).sort((a, b) => b.revision - a.revision);
    },

    async newestJobDefinitionRevisions(name, lookup = {}) {
      const anchor = anchorHints.get(name);
      anchorHints.delete(name);
      // An anchor just read is what AWS says now; a saved number is what a process saw earlier,
      // checked against the anchor in the same call.
      const seen = recentlySeen(name);
      const saved = seen !== undefined || anchor !== undefined ? undefined : await kept?.read(name);
      const hint = seen ?? anchor ?? saved;
      // The upcoming name's anchor rides along while the process has seen nothing of that name
      // (again when an anchor read earlier is still unused: the newer value replaces it).
      const { upcoming } = lookup;
      const companion = upcoming !== undefined && recentlySeen(upcoming) === undefined ? upcoming : undefined;
      const { newestNumber, companionHint, ...found } = await newestRevisions(batch, name, () => platform.listJobDefinitionRevisions(name), {
        ...(hint === undefined ? {} : { hint }),
        ...(saved === undefined ? {} : { checkHint: true }),
        ...(options.debug === undefined ? {} : { debug: options.debug }),
        ...(companion === undefined ? {} : { companion }),
      });
      saw(name, newestNumber);
      if (companion !== undefined && companionHint !== undefined) anchorHints.set(companion, companionHint);
      return found;
    },

    async registerJobDefinition(name, body, given) {
      const normalized = normalizeJobDefinitionBody(body);
      // Only the anchor revision's own tag is a hint; copied onto another revision (a promotion
      // copies its candidate's tags) it would only mislead.
      const { [TAG.newestRevision]: _anchor, ...tags } = given;
      // batchOnce: RegisterJobDefinition has no idempotency token; a retried lost response
      // would register a second revision. The engine looks for the revision by tags instead.
      const output = await awsCall(`register job definition ${name}`, () =>
        batchOnce.send(
          new RegisterJobDefinitionCommand({
            ...toRegisterJobDefinitionMembers(normalized),
            jobDefinitionName: name,
            ...(Object.keys(tags).length > 0 ? { tags } : {}),
          }),
        ),
      );
      if (!output.jobDefinitionArn || output.revision === undefined) {
        throw new BatchshipError("AWS", `Could not register job definition ${name}: Batch returned no ARN`);
      }
      saw(name, output.revision);
      await writeAnchor(name, output.jobDefinitionArn, output.revision);
      return { arn: output.jobDefinitionArn, revision: output.revision };
    },

    async tagJobDefinition(arn, tags) {
      if (Object.keys(tags).length === 0) return;
      await awsCall(`tag job definition ${arn}`, () => batch.send(new TagResourceCommand({ resourceArn: arn, tags })));
    },

    async deregisterJobDefinition(arn) {
      await awsCall(`deregister job definition ${arn}`, () => batch.send(new DeregisterJobDefinitionCommand({ jobDefinition: arn })));
    },

    async findJobs(jobQueue, jobName) {
      const operation = `find jobs named ${jobName} on job queue ${jobQueue}`;
      // With a filter ListJobs returns every status. It also lists array children (`<id>:<n>`).
      const summaries = await listJobs({ jobQueue, filters: [{ name: "JOB_NAME", values: [jobName] }] }, operation);
      const ids = summaries
        .filter((job) => job.jobName === jobName && job.jobId !== undefined && !job.jobId.includes(":"))
        .map((job) => job.jobId as string);
      if (ids.length === 0) return [];
      // DescribeJobs adds what a summary lacks: tags (how the engine recognises its own job)
      // and the children's status summary.
      const details = await describeJobs(ids, operation);
      return details.map((job) => toJobState(job)).sort(newestFirst);
    },

    async submitJob(request) {
      // batchOnce: SubmitJob has no idempotency token; the engine finds a lost submission by name.
      const output = await awsCall(`submit job ${request.jobName} to job queue ${request.jobQueue}`, () =>
        batchOnce.send(
          new SubmitJobCommand({
            jobName: request.jobName,
            jobQueue: request.jobQueue,
            jobDefinition: request.jobDefinitionArn,
            ...(request.arraySize > 1 ? { arrayProperties: { size: request.arraySize } } : {}),
            ...(Object.keys(request.parameters).length > 0 ? { parameters: request.parameters } : {}),
            ...environmentOverrides(request.definition, request.environment),
            ...(Object.keys(request.tags).length > 0 ? { tags: request.tags } : {}),
            ...(request.shareIdentifier === undefined ? {} : { shareIdentifier: request.shareIdentifier }),
            ...(request.schedulingPriorityOverride === undefined ? {} : { schedulingPriorityOverride: request.schedulingPriorityOverride }),
            ...(request.propagateTags === undefined ? {} : { propagateTags: request.propagateTags }),
          }),
        ),
      );
      if (!output.jobId) {
        throw new BatchshipError("AWS", `Could not submit job ${request.jobName}: Batch returned no job id`);
      }
      return { jobId: output.jobId };
    },

    async describeJob(jobId) {
      const job = await describeOne(jobId);
      return job === undefined ? undefined : toJobState(job);
    },

    async listChildren(arrayJobId, options = {}) {
      const limit = options.limit ?? DESCRIBE_LIMIT;
      if (limit <= 0) return [];
      const operation = `list children of array job ${arrayJobId}`;
      const statuses = options.status === undefined ? CHILD_STATUS_ORDER : [options.status];
      const summaries: JobSummary[] = [];
      for (const jobStatus of statuses) {
        if (summaries.length >= limit) break;
        summaries.push(...(await listJobs({ arrayJobId, jobStatus }, operation, limit - summaries.length)));
      }
      const children = summaries.map((job) => toJobState(job));
      // One DescribeJobs call adds exit code, log stream and reason for the first 100.
      const ids = children.slice(0, DESCRIBE_LIMIT).map((child) => child.jobId);
      const details = new Map(
        (await describeJobs(ids, operation)).map((job) => [job.jobId, toJobState(job)] as const),
      );
      return children.map((child) => details.get(child.jobId) ?? child);
    },

    async stopJob(jobId, reason) {
      // TerminateJob cancels jobs that have not started and terminates running ones; on an
      // array parent, Batch applies it to every child.
      await awsCall(`stop job ${jobId}`, () => batch.send(new TerminateJobCommand({ jobId, reason })));
    },
  };
  return platform;
}
