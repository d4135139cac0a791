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

export interface Builder {
  /** A build already started for this request (a retry or a resume after a crash), if any. */
  findBuild(request: BuildRequest): Promise<BuildState | undefined>;
  startBuild(request: BuildRequest): Promise<BuildState>;
  getBuild(buildId: string): Promise<BuildState>;
}

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
}

// ------------------------------------------------------------------------------ JobPlatform

/** RegisterJobDefinition's body, less the name and tags. */
export interface JobDefinitionBody {
  type: "container";
  platformCapabilities: string[];
  containerProperties: Record<string, unknown> & { image: string };
  retryStrategy?: Record<string, unknown>;
  timeout?: Record<string, unknown>;
  parameters?: Record<string, string>;
  propagateTags?: boolean;
}

export interface JobDefinitionRevision {
  name: string;
  arn: string;
  revision: number;
  body: JobDefinitionBody;
  tags: Record<string, string>;
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
  exitCode?: number;
  logStreamName?: string;
  tags?: Record<string, string>;
}

export interface SubmitJobRequest {
  jobName: string;
  jobQueue: string;
  jobDefinitionArn: string;
  /** 1 submits a single job; more submits an array job. */
  arraySize: number;
  parameters: Record<string, string>;
  environment: Record<string, string>;
  tags: Record<string, string>;
}

export interface JobPlatform {
  /** ACTIVE revisions of a job definition name, newest first. */
  listJobDefinitionRevisions(name: string): Promise<JobDefinitionRevision[]>;
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
}

// ------------------------------------------------------------------------- clock and sleep

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export type Sleep = (ms: number) => Promise<void>;

/**
 * What a port call or `sleep` throws when the caller stops the release on purpose (the service
 * shutting down). The engine reports the stage in progress as `interrupted`, not `failed`, and
 * lets the error through: the release did not fail, and running it again resumes it.
 */
export class ReleaseInterrupted extends Error {
  override readonly name: string = "ReleaseInterrupted";
}

export const systemClock: Clock = { now: () => Date.now() };
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
