import { isTerminal } from "../canary/counts.js";
import { BatchshipError } from "../errors.js";
import type { PipelineSpec } from "../spec/schema.js";
import { canaryAttemptOf } from "./canary-attempt.js";
import type { EngineContext } from "./context.js";
import { candidateName } from "./job-definition.js";
import type { JobState, LogReader } from "./ports.js";
import { canaryJobName } from "./release-id.js";
import { findRevision } from "./revision-lookup.js";
import { TAG } from "./tags.js";

/** One line of a canary child's output. */
export interface ChildLogLine {
  index: number;
  /** The child's log stream (a file on the local backend). */
  stream: string;
  /** Epoch milliseconds. */
  timestamp: number;
  message: string;
}

export interface CanaryLogsRequest {
  /** Only this child. */
  index?: number;
  /** Only children that failed (with `follow`: as they fail). */
  failed?: boolean;
  /** Keep reading, every canary poll interval, until the canary ends or `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
}

export interface CanaryLogsResult {
  jobId: string;
  attempt: number;
  /** The children whose output was read. */
  children: number[];
  /** The canary job's status when reading stopped. */
  status: JobState["status"];
}

/**
 * `batchship logs`: the output of the release's canary children (its newest attempt, on the
 * fallback queue when the canary moved there), page by page through the backend's LogReader.
 * A stream is read until its token comes back unchanged — an empty page is not its end.
 */
export async function readCanaryLogs(
  ctx: EngineContext,
  spec: PipelineSpec,
  releaseId: string,
  request: CanaryLogsRequest,
  emit: (line: ChildLogLine) => void,
): Promise<CanaryLogsResult> {
  const reader = ctx.backend.logs;
  if (reader === undefined) {
    throw new BatchshipError("ENVIRONMENT", `Could not read the canary output of ${releaseId}: this backend keeps none batchship can read`);
  }
  const { job: found, attempt } = await findCanaryJob(ctx, spec, releaseId);
  const tokens = new Map<number, string>();
  const read = new Set<number>();
  const aborted = abortPromise(request.signal);
  const stopped = (): boolean => request.signal?.aborted === true;
  let job = found;
  for (;;) {
    job = (await ctx.backend.platform.describeJob(found.jobId)) ?? job;
    // The status is read before the streams: once it is final, this pass reads everything.
    const ended = isTerminal(job);
    for (const child of await selectChildren(ctx, job, request)) {
      read.add(child.index);
      await drain(reader, child, tokens, emit);
    }
    if (request.follow !== true || ended || stopped()) break;
    await Promise.race([ctx.sleep(ctx.polling.canaryIntervalMs), aborted]);
    if (stopped()) break;
  }
  return { jobId: found.jobId, attempt, children: [...read].sort((a, b) => a - b), status: job.status };
}

/** The release's newest canary job: its candidate's current attempt, the fallback queue's job when there is one. */
export async function findCanaryJob(ctx: EngineContext, spec: PipelineSpec, releaseId: string): Promise<{ job: JobState; attempt: number }> {
  const { platform } = ctx.backend;
  // Among the newest candidates, where a recent release's is; the whole history only for an older one.
  const { found: candidate } = await findRevision(platform, candidateName(spec), (revision) => revision.tags[TAG.release] === releaseId, true);
  const hint = `see where it stands with \`batchship status --pipeline <file>\``;
  if (candidate === undefined) {
    throw new BatchshipError("NO_CANARY", `No canary output for ${releaseId}: it has no candidate ${candidateName(spec)} revision (not built yet, its build failed, or retention removed it)`, { hint });
  }
  const attempt = canaryAttemptOf(candidate);
  const queues: Array<[string, boolean]> = [[spec.canary.jobQueue, false]];
  if (spec.canary.fallbackJobQueue !== undefined) queues.push([spec.canary.fallbackJobQueue, true]);
  let newest: JobState | undefined;
  for (const [queue, fallback] of queues) {
    const [job] = await platform.findJobs(queue, canaryJobName(releaseId, fallback, attempt));
    if (job !== undefined) newest = job;
  }
  if (newest === undefined) {
    throw new BatchshipError("NO_CANARY", `No canary output for ${releaseId}: its canary (attempt ${attempt}) has not been submitted`, { hint });
  }
  return { job: newest, attempt };
}

interface Child {
  index: number;
  job: JobState;
}

async function selectChildren(ctx: EngineContext, parent: JobState, request: CanaryLogsRequest): Promise<Child[]> {
  const { platform } = ctx.backend;
  const size = parent.arraySize;
  if (size === undefined) {
    // A canary of one is a single job: child 0.
    if (request.index !== undefined && request.index !== 0) throw outOfRange(request.index, 1);
    return request.failed === true && parent.status !== "FAILED" ? [] : [{ index: 0, job: parent }];
  }
  if (request.index !== undefined) {
    if (request.index >= size) throw outOfRange(request.index, size);
    const child = await platform.describeJob(`${parent.jobId}:${request.index}`);
    if (child === undefined || (request.failed === true && child.status !== "FAILED")) return [];
    return [{ index: request.index, job: child }];
  }
  const listed = await platform.listChildren(parent.jobId, { ...(request.failed === true ? { status: "FAILED" as const } : {}), limit: size });
  const children: Child[] = [];
  for (const job of listed) {
    const index = childIndex(job.jobId);
    if (index === undefined) continue;
    // Listings describe only so many children in full; a started one without its stream is asked for alone.
    const full = job.logStreamName === undefined && job.startedAt !== undefined ? ((await platform.describeJob(job.jobId)) ?? job) : job;
    children.push({ index, job: full });
  }
  return children.sort((a, b) => a.index - b.index);
}

async function drain(reader: LogReader, child: Child, tokens: Map<number, string>, emit: (line: ChildLogLine) => void): Promise<void> {
  for (;;) {
    const before = tokens.get(child.index);
    const page = await reader.readLogs(child.job, before === undefined ? {} : { nextToken: before });
    for (const event of page.events) {
      emit({ index: child.index, stream: child.job.logStreamName ?? "", timestamp: event.timestamp, message: event.message });
    }
    tokens.set(child.index, page.nextToken);
    if (page.nextToken === before) return;
  }
}

function childIndex(jobId: string): number | undefined {
  const match = /:(\d+)$/.exec(jobId);
  return match === null ? undefined : Number(match[1]);
}

function outOfRange(index: number, size: number): BatchshipError {
  return new BatchshipError("USAGE", `Could not read child ${index}: the canary has ${size} ${size === 1 ? "child (index 0)" : `children (index 0 to ${size - 1})`}`, {
    hint: "pass an --index within that range, or leave it out for every child",
  });
}

function abortPromise(signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return new Promise(() => undefined);
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })));
}
