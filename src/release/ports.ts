/**
 * The three ports the release engine talks to. AWS (src/aws) and the local backend implement
 * them; the engine never learns which one it has. Every method is a single, plain question or
 * action: loops, waiting, retries and judgement live in the engine.
 */
import type { PipelineSpec } from "../spec/schema.js";

// ---------------------------------------------------------------------------------- Builder

export interface BuildRequest {
  releaseId: string;
  commit: string;
  /** CodeBuild project (or the local builder's working label). */
  project: string;
  imageRepositoryUri: string;
  /** The first tag always contains the commit sha. */
  imageTags: readonly string[];
  dockerfile: string;
  context: string;
  buildArgs: Readonly<Record<string, string>>;
  timeoutMinutes: number;
}

export type BuildStatus = "in-progress" | "succeeded" | "failed";

export interface BuildPhase {
  name: string;
  /** Provider status of the phase (SUCCEEDED, FAILED, …) once it has ended. */
  status?: string;
  contexts: string[];
}

export interface BuildState {
  id: string;
  status: BuildStatus;
  /** Provider's own terminal status word (FAILED, FAULT, TIMED_OUT, STOPPED…). */
  detail?: string;
  currentPhase?: string;
  phases: BuildPhase[];
  /** Where a person reads the build's log. */
  logUrl?: string;
}

/**
 * What a build's result depends on besides the sources: the build definition the backend runs
 * (its content, hashed) and the platform it builds for. Part of every image's content key.
 */
export interface BuildDefinition {
  /** Changes whenever the build definition changes (sha-256 of its content). */
  version: string;
  /** The target platform and the build environment that decides it (`codebuild LINUX_CONTAINER aws/codebuild/standard:7.0`). */
  platform: string;
}

export interface Builder {
  /**
   * The build definition a build for this project would run. Absent: the backend cannot say,
   * and images are never reused (every commit builds).
   */
  definition?(project: string): Promise<BuildDefinition>;
  /**
   * The newest build already started for this request (a re-run or a resume after a crash), if
   * any, whatever its status: a failed one is reported again, not rebuilt, unless the release
   * is retried on purpose.
   */
  findBuild(request: BuildRequest): Promise<BuildState | undefined>;
  startBuild(request: BuildRequest): Promise<BuildState>;
  getBuild(buildId: string): Promise<BuildState>;
  /** Stops a running build (`batchship cancel`); it then ends as failed with detail STOPPED. Absent: the backend cannot. */
  stopBuild?(buildId: string): Promise<void>;
}

/** The provider's terminal status word of a build someone stopped. */
export const BUILD_STOPPED = "STOPPED";

// --------------------------------------------------------------------------------- Registry

export interface ImageRepository {
  /** Repository name as the registry knows it (ECR: `etl`). */
  name: string;
  /** Full URI without tag or digest: `123456789012.dkr.ecr.us-east-1.amazonaws.com/etl`. */
  uri: string;
}

export interface Registry {
  /** Resolves the spec's `image.repository`; creates it when missing (ECR: tags IMMUTABLE). */
  ensureRepository(repository: string): Promise<ImageRepository>;
  /** The digest (`sha256:…`) the tag points at, or undefined when the tag does not exist. */
  findDigest(repository: ImageRepository, tag: string): Promise<string | undefined>;
  /**
   * Which of these tags exist, with the digest each points at; one round trip where the
   * registry allows it (ECR: BatchGetImage). Tags that do not exist are left out.
   */
  findTags?(repository: ImageRepository, tags: readonly string[]): Promise<Map<string, string>>;
  /**
   * Adds tags to the image with this digest, in the order given, without rebuilding or
   * re-pushing anything (ECR: PutImage of the same manifest, so the digest stays). A tag already
   * on this image is left as it is; a tag on another image is never moved: that is a
   * non-retryable error naming the tag.
   */
  addTags?(repository: ImageRepository, digest: string, tags: readonly string[]): Promise<void>;
}

// ------------------------------------------------------------------------------ JobPlatform

/**
 * RegisterJobDefinition's body, less the name and tags. Exactly one of containerProperties,
 * ecsProperties, eksProperties and nodeProperties is set (nodeProperties: type multinode).
 */
export interface JobDefinitionBody {
  type: "container" | "multinode";
  /** Absent for jobs on EKS, which take none. */
  platformCapabilities?: string[];
  containerProperties?: Record<string, unknown>;
  ecsProperties?: Record<string, unknown>;
  eksProperties?: Record<string, unknown>;
  nodeProperties?: Record<string, unknown>;
  retryStrategy?: Record<string, unknown>;
  timeout?: Record<string, unknown>;
  parameters?: Record<string, string>;
  schedulingPriority?: number;
  consumableResourceProperties?: Record<string, unknown>;
  propagateTags?: boolean;
}

/** The members of a body besides `type`, in one list for code that copies or compares bodies. */
export const JOB_DEFINITION_BODY_KEYS = [
  "platformCapabilities",
  "containerProperties",
  "ecsProperties",
  "eksProperties",
  "nodeProperties",
  "retryStrategy",
  "timeout",
  "parameters",
  "schedulingPriority",
  "consumableResourceProperties",
  "propagateTags",
] as const satisfies readonly Exclude<keyof JobDefinitionBody, "type">[];

export type JobDefinitionStatus = "ACTIVE" | "INACTIVE";

export interface JobDefinitionRevision {
  name: string;
  arn: string;
  revision: number;
  body: JobDefinitionBody;
  tags: Record<string, string>;
}

/**
 * How many of the newest revision numbers of a name `newestJobDefinitionRevisions` covers at
 * least. Retention's limits stay within it, so what retention keeps as newest is in view.
 */
export const NEWEST_WINDOW = 90;

export interface NewestLookupOptions {
  /**
   * A name the caller looks up next (a release: production, after its candidate). A backend that
   * finds the newest revisions around a hint may read that name's hint in the same call, so that
   * its first lookup in a new process costs no more than a later one.
   */
  upcoming?: string;
}

export interface NewestRevisions {
  /** The ACTIVE revisions among (at least) the newest NEWEST_WINDOW revision numbers, newest first. */
  revisions: JobDefinitionRevision[];
  /** True when `revisions` are every ACTIVE revision of the name. */
  complete: boolean;
}

export const JOB_STATUSES = [
  "SUBMITTED",
  "PENDING",
  "RUNNABLE",
  "STARTING",
  "RUNNING",
  "SUCCEEDED",
  "FAILED",
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export type StatusCounts = Record<JobStatus, number>;

export interface JobState {
  jobId: string;
  jobName: string;
  jobQueue: string;
  status: JobStatus;
  statusReason?: string;
  /** Epoch milliseconds. */
  createdAt?: number;
  /** When the job (an array parent: its first child) started running, if it ever did. */
  startedAt?: number;
  stoppedAt?: number;
  /** Array size; undefined for a single job. */
  arraySize?: number;
  /** Per-state child counts for an array job (from its statusSummary). */
  childCounts?: StatusCounts;
  /**
   * When the platform last updated `childCounts` (epoch milliseconds; Batch's
   * statusSummaryLastUpdatedAt). The counts can lag the children and the parent's own status.
   */
  childCountsAt?: number;
  exitCode?: number;
  logStreamName?: string;
  /** The log group of `logStreamName` (Batch: the job's awslogs-group, else /aws/batch/job). */
  logGroupName?: string;
  tags?: Record<string, string>;
}

export interface SubmitJobRequest {
  jobName: string;
  jobQueue: string;
  jobDefinitionArn: string;
  /** 1 submits a single job; more submits an array job. */
  arraySize: number;
  parameters: Record<string, string>;
  /** Set on the containers that run the built image (the definition's kind says where). */
  environment: Record<string, string>;
  tags: Record<string, string>;
  /** The definition's body, so the platform can address overrides to its kind of job. */
  definition?: JobDefinitionBody;
  /** Fair-share queues. */
  shareIdentifier?: string;
  schedulingPriorityOverride?: number;
  /** Copy the job's tags to its tasks. */
  propagateTags?: boolean;
}

export interface JobPlatform {
  /**
   * Every revision of a job definition name in `status` (default ACTIVE; INACTIVE: deregistered,
   * which Batch keeps describable for 180 days), newest first. Its cost grows with the name's
   * history (AWS: one call per 100 revisions): for retention and views of the whole history.
   */
  listJobDefinitionRevisions(name: string, status?: JobDefinitionStatus): Promise<JobDefinitionRevision[]>;
  /**
   * The ACTIVE revisions among the newest revision numbers of a name (NEWEST_WINDOW at least),
   * newest first, in a number of calls that does not grow with the name's history: what a
   * release looks things up in (src/release/revision-lookup.ts).
   */
  newestJobDefinitionRevisions(name: string, options?: NewestLookupOptions): Promise<NewestRevisions>;
  registerJobDefinition(
    name: string,
    body: JobDefinitionBody,
    tags: Record<string, string>,
  ): Promise<{ arn: string; revision: number }>;
  tagJobDefinition(arn: string, tags: Record<string, string>): Promise<void>;
  /** Marks a revision INACTIVE: it leaves the ACTIVE list and takes no new jobs. Repeating it is harmless. */
  deregisterJobDefinition(arn: string): Promise<void>;

  /** Jobs (not array children) with this exact name on the queue, any status, newest first. */
  findJobs(jobQueue: string, jobName: string): Promise<JobState[]>;
  submitJob(request: SubmitJobRequest): Promise<{ jobId: string }>;
  /** One call, whatever the array size. */
  describeJob(jobId: string): Promise<JobState | undefined>;
  /**
   * Children of an array job, optionally only those in one status, at most `limit`, with exit
   * code, reason and log stream where the platform knows them.
   */
  listChildren(arrayJobId: string, options?: { status?: JobStatus; limit?: number }): Promise<JobState[]>;
  /** Cancels what has not started and terminates what has. */
  stopJob(jobId: string, reason: string): Promise<void>;
}

// -------------------------------------------------------------------------------- LogReader

export interface LogEvent {
  /** Epoch milliseconds. */
  timestamp: number;
  message: string;
}

export interface LogPage {
  events: LogEvent[];
  /**
   * Where the next page starts. At the end of the output it comes back unchanged (CloudWatch
   * Logs' nextForwardToken); a page may be empty while more output follows, so only an unchanged
   * token says "nothing more yet".
   */
  nextToken: string;
}

export interface LogReader {
  /** One page of a job's (an array child's) output, oldest first: from its start, or from `nextToken`. */
  readLogs(job: JobState, options?: { nextToken?: string }): Promise<LogPage>;
}

// ---------------------------------------------------------------------------------- Backend

export type CheckLevel = "ok" | "warn" | "fail";

export interface DoctorCheck {
  level: CheckLevel;
  subject: string;
  message: string;
  hint?: string;
}

export interface Backend {
  builder: Builder;
  registry: Registry;
  platform: JobPlatform;
  /** The canary children's output (`batchship logs`). Absent: the backend keeps none it can read. */
  logs?: LogReader;
  /** Console or log links for a report; empty when the backend has none. */
  links?: BackendLinks;
  /** Checks that what a pipeline needs exists and can work (`batchship doctor`). */
  doctor?(spec: PipelineSpec): Promise<DoctorCheck[]>;
}

export interface BackendLinks {
  build?(buildId: string): string;
  image?(repository: ImageRepository, digest: string): string;
  jobDefinition?(arn: string): string;
  job?(jobId: string): string;
  /** A job's output: its log stream in its log group. */
  log?(logGroup: string, logStream: string): string;
}

// ------------------------------------------------------------------------- source history

/**
 * The app repository's history, as far as the caller can see it: the service's mirror, the
 * CLI's or the Action's checkout. Promotion asks it which commit is newer; an answer it cannot
 * give is `undefined`, never a guess.
 */
export interface SourceHistory {
  /** The commit `branch` points at now; null when the branch is gone, undefined when it cannot be told. */
  headOf(branch: string): Promise<string | null | undefined>;
  /** Whether `descendant`'s history holds `ancestor` (a commit holds itself); undefined when a commit is unknown here. */
  contains(descendant: string, ancestor: string): Promise<boolean | undefined>;
}

// ------------------------------------------------------------------------- clock and sleep

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

/**
 * Waits `ms`. When `signal` aborts first, the wait ends early and resolves: the engine races a
 * pause against a change notification and must not leave the loser's timer behind.
 */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * What a port call or `sleep` throws when the caller stops the release on purpose (the service
 * shutting down). The engine reports the stage in progress as `interrupted`, not `failed`, and
 * lets the error through: the release did not fail, and running it again resumes it.
 */
export class ReleaseInterrupted extends Error {
  override readonly name: string = "ReleaseInterrupted";
}

export const systemClock: Clock = { now: () => Date.now() };
export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
