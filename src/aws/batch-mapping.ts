import type { JobDefinition, JobDetail, JobSummary } from "@aws-sdk/client-batch";
import { DEFAULT_BATCH_LOG_GROUP } from "./links.js";
import {
  JOB_DEFINITION_BODY_KEYS,
  JOB_STATUSES,
  type JobDefinitionBody,
  type JobDefinitionRevision,
  type JobState,
  type JobStatus,
  type StatusCounts,
} from "../release/ports.js";

/**
 * Drops null, undefined, empty arrays and empty objects, recursively. Batch echoes back
 * `environment: []`, `volumes: []`… for fields never sent; without this a body registered and
 * read back would not compare equal, and every run would register a new revision.
 */
export function pruneEmpty(value: unknown, key?: string): unknown {
  if (Array.isArray(value)) {
    const items = value.map((item) => pruneEmpty(item)).filter((item) => item !== undefined);
    return items.length === 0 ? undefined : items;
  }
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    const entries = Object.entries(value)
      .map(([name, item]) => [name, pruneEmpty(item, name)] as const)
      .filter(([, item]) => item !== undefined);
    // An EKS `emptyDir: {}` is a volume's source: empty, and meaningful.
    if (entries.length === 0 && key !== EMPTY_BUT_MEANINGFUL) return undefined;
    return Object.fromEntries(entries);
  }
  return value === null ? undefined : value;
}

const EMPTY_BUT_MEANINGFUL = "emptyDir";

/**
 * The canonical form of a body: the same function shapes what is sent and what is read back.
 * `propagateTags: false` is Batch's default, so it is dropped like an empty field.
 */
export function normalizeJobDefinitionBody(body: JobDefinitionBody): JobDefinitionBody {
  const result: JobDefinitionBody = { type: body.type === "multinode" ? "multinode" : "container" };
  const target = result as unknown as Record<string, unknown>;
  for (const key of JOB_DEFINITION_BODY_KEYS) {
    if (key === "propagateTags") {
      if (body.propagateTags === true) result.propagateTags = true;
      continue;
    }
    const value = pruneEmpty(body[key]);
    if (value !== undefined) target[key] = value;
  }
  return result;
}

export function toJobDefinitionRevision(definition: JobDefinition): JobDefinitionRevision {
  const source = definition as unknown as Record<string, unknown>;
  const body: JobDefinitionBody = { type: definition.type === "multinode" ? "multinode" : "container" };
  for (const key of JOB_DEFINITION_BODY_KEYS) {
    if (source[key] !== undefined) (body as unknown as Record<string, unknown>)[key] = source[key];
  }
  return {
    name: definition.jobDefinitionName ?? "",
    arn: definition.jobDefinitionArn ?? "",
    revision: definition.revision ?? 0,
    body: normalizeJobDefinitionBody(body),
    tags: definition.tags ?? {},
  };
}

export function toJobState(job: JobDetail | JobSummary, jobQueue?: string): JobState {
  const state: JobState = {
    jobId: job.jobId ?? "",
    jobName: job.jobName ?? "",
    jobQueue: ("jobQueue" in job ? job.jobQueue : undefined) ?? jobQueue ?? "",
    status: toJobStatus(job.status),
  };
  if (job.statusReason) state.statusReason = job.statusReason;
  if (job.createdAt !== undefined) state.createdAt = job.createdAt;
  if (job.startedAt !== undefined) state.startedAt = job.startedAt;
  if (job.stoppedAt !== undefined) state.stoppedAt = job.stoppedAt;
  if (job.arrayProperties?.size !== undefined) state.arraySize = job.arrayProperties.size;
  if ("arrayProperties" in job && job.arrayProperties && "statusSummary" in job.arrayProperties) {
    const summary = job.arrayProperties.statusSummary;
    if (summary !== undefined && state.arraySize !== undefined) state.childCounts = toStatusCounts(summary);
    const updatedAt = job.arrayProperties.statusSummaryLastUpdatedAt;
    if (state.childCounts !== undefined && updatedAt !== undefined) state.childCountsAt = updatedAt;
  }
  const container = job.container as
    | { exitCode?: number; logStreamName?: string; reason?: string; logConfiguration?: { logDriver?: string; options?: Record<string, string> } }
    | undefined;
  if (container?.exitCode !== undefined && container.exitCode !== null) state.exitCode = container.exitCode;
  if (container?.logStreamName) {
    state.logStreamName = container.logStreamName;
    const configured = container.logConfiguration?.logDriver === "awslogs" ? container.logConfiguration.options?.["awslogs-group"] : undefined;
    state.logGroupName = configured || DEFAULT_BATCH_LOG_GROUP;
  }
  // A container's own reason ("OutOfMemoryError: …") says more than the job's.
  if (!state.statusReason && container?.reason) state.statusReason = container.reason;
  if ("tags" in job && job.tags) state.tags = job.tags;
  return state;
}

export function toStatusCounts(summary: Record<string, number>): StatusCounts {
  return Object.fromEntries(JOB_STATUSES.map((status) => [status, summary[status] ?? 0])) as StatusCounts;
}

function toJobStatus(status: string | undefined): JobStatus {
  return (JOB_STATUSES as readonly string[]).includes(status ?? "") ? (status as JobStatus) : "SUBMITTED";
}

export function newestFirst(a: JobState, b: JobState): number {
  return (b.createdAt ?? 0) - (a.createdAt ?? 0);
}
