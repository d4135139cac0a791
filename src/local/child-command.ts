import { BatchshipError } from "../errors.js";
import type { JobDefinitionBody } from "../release/ports.js";

export interface ChildIdentity {
  /** The parent's id for an array child; the job's own id for a single job. */
  jobId: string;
  /** undefined for a single job: Batch sets no array index then. */
  arrayIndex: number | undefined;
  attempt: number;
  jobQueue: string;
}

export interface ChildLaunch {
  image: string;
  command: string[] | undefined;
  environment: Record<string, string>;
  /** undefined: no time limit. */
  attemptTimeoutMs: number | undefined;
  attempts: number;
  resources: ChildResources;
}

/** The definition's limits, as Batch reads them: resourceRequirements, else the older vcpus and memory. */
export interface ChildResources {
  vcpus?: number;
  memoryMiB?: number;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const REF = /^Ref::(.+)$/;

/**
 * What one child runs, the way Batch derives it: the definition's command with `Ref::name`
 * arguments replaced by parameters (the submission's over the definition's), the definition's
 * environment with the submission's on top, and the AWS_BATCH_* variables a job reads.
 */
export function childLaunch(
  body: JobDefinitionBody,
  submitted: { parameters: Record<string, string>; environment: Record<string, string> },
  child: ChildIdentity,
): ChildLaunch {
  const container = body.containerProperties;
  // The spec refuses other kinds of job definition for the local platform.
  if (container === undefined || typeof container["image"] !== "string") {
    throw invalid("the local platform runs containerProperties jobs only");
  }
  const image = container["image"];
  const parameters = { ...body.parameters, ...submitted.parameters };
  const rawCommand = container["command"];
  let command: string[] | undefined;
  if (rawCommand !== undefined) {
    if (!Array.isArray(rawCommand) || !rawCommand.every((arg) => typeof arg === "string")) {
      throw invalid("containerProperties.command must be a list of strings");
    }
    command = rawCommand.map((arg) => {
      const name = REF.exec(arg)?.[1];
      // Batch leaves an unknown reference as it is.
      return name !== undefined && parameters[name] !== undefined ? parameters[name] : arg;
    });
  }

  const environment: Record<string, string> = {};
  for (const entry of listOf(container["environment"], "containerProperties.environment")) {
    const { name, value } = entry as { name?: unknown; value?: unknown };
    if (typeof name !== "string" || typeof value !== "string") {
      throw invalid("containerProperties.environment entries must be { name, value } strings");
    }
    environment[name] = value;
  }
  Object.assign(environment, submitted.environment);
  for (const [name, value] of Object.entries(environment)) {
    // Batch reserves the AWS_BATCH_ prefix for the variables it sets itself.
    if (!ENV_NAME.test(name) || name.startsWith("AWS_BATCH_")) {
      throw invalid(`environment variable name "${name}" is not allowed`);
    }
    if (value.includes("\0")) throw invalid(`environment variable ${name} contains a NUL byte`);
  }
  environment["AWS_BATCH_JOB_ID"] = child.arrayIndex === undefined ? child.jobId : `${child.jobId}:${child.arrayIndex}`;
  environment["AWS_BATCH_JOB_ATTEMPT"] = String(child.attempt);
  environment["AWS_BATCH_JQ_NAME"] = child.jobQueue;
  environment["AWS_BATCH_CE_NAME"] = "local";
  if (child.arrayIndex !== undefined) environment["AWS_BATCH_JOB_ARRAY_INDEX"] = String(child.arrayIndex);

  return {
    image,
    command,
    environment,
    attemptTimeoutMs: attemptTimeoutMs(body.timeout),
    attempts: attemptsOf(body.retryStrategy),
    resources: resourcesOf(container),
  };
}

function resourcesOf(container: Record<string, unknown>): ChildResources {
  const resources: ChildResources = {};
  const legacy = { vcpus: container["vcpus"], memoryMiB: container["memory"] };
  for (const [key, value] of Object.entries(legacy) as Array<[keyof ChildResources, unknown]>) {
    if (value !== undefined) resources[key] = positive(value, key === "vcpus" ? "containerProperties.vcpus" : "containerProperties.memory");
  }
  for (const entry of listOf(container["resourceRequirements"], "containerProperties.resourceRequirements")) {
    const { type, value } = entry as { type?: unknown; value?: unknown };
    if (type === "VCPU") resources.vcpus = positive(Number(value), "the VCPU resource requirement");
    if (type === "MEMORY") resources.memoryMiB = positive(Number(value), "the MEMORY resource requirement");
  }
  return resources;
}

function positive(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) throw invalid(`${what} must be a positive number`);
  return value;
}

function attemptTimeoutMs(timeout: Record<string, unknown> | undefined): number | undefined {
  const seconds = timeout?.["attemptDurationSeconds"];
  if (seconds === undefined) return undefined;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0) {
    throw invalid("timeout.attemptDurationSeconds must be a positive number");
  }
  return seconds * 1000;
}

function attemptsOf(retryStrategy: Record<string, unknown> | undefined): number {
  const attempts = retryStrategy?.["attempts"];
  if (attempts === undefined) return 1;
  if (typeof attempts !== "number" || !Number.isInteger(attempts) || attempts < 1 || attempts > 10) {
    throw invalid("retryStrategy.attempts must be a whole number 1-10");
  }
  return attempts;
}

function listOf(value: unknown, what: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(`${what} must be a list`);
  return value;
}

function invalid(message: string): BatchshipError {
  return new BatchshipError("SPEC_INVALID", `Could not start the job on the local platform: ${message}`);
}
