import { BatchServiceException } from "@aws-sdk/client-batch";
import { CodeBuildServiceException } from "@aws-sdk/client-codebuild";
import { BatchshipError, isBatchshipError, type ErrorCode } from "../errors.js";
import { MISSING_REGION_MESSAGE } from "./clients.js";

const THROTTLING_NAMES = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestThrottled",
  "RequestThrottledException",
  "RequestLimitExceeded",
  "SlowDown",
  "ProvisionedThroughputExceededException",
]);
const TRANSIENT_NAMES = new Set([
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalFailure",
  "InternalServerError",
  "InternalServerException",
  "ServerException", // Batch's 5xx
  "ServerError",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
]);
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);
// These mean "nothing is listening where you pointed me", not a blip.
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);
const CREDENTIAL_NAMES = new Set([
  "CredentialsProviderError",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "ExpiredTokenException",
  "MissingAuthenticationToken",
]);

export const HINTS = {
  accessDenied: "run batchship as the roles infra/batchship-pipeline.yml makes, or attach the policies in docs/iam-policy.json",
  credentials: "configure credentials: AWS_PROFILE, env keys, or OIDC in GitHub Actions",
  unreachable: "check AWS_REGION / AWS_ENDPOINT_URL",
  jobQueue: "create the job queue named in canary.jobQueue / canary.fallbackJobQueue, or fix the name",
  jobDefinition: "the job definition is missing or not ACTIVE: let batchship register it, or fix the name",
  computeEnvironment: "create the compute environment, or fix the job queue's computeEnvironmentOrder",
  codebuildProject: "create the CodeBuild project named in build.project (infra/batchship-pipeline.yml makes one)",
  repository: "create the ECR repository named in image.repository, or let batchship create it (ecr:CreateRepository)",
} as const;

interface Classified {
  code: ErrorCode;
  retryable: boolean;
  throttled?: boolean;
  hint?: string;
}

/**
 * Turns whatever the SDK threw into the tool's one error type. `operation` is the verb phrase
 * after "Could not", e.g. "register job definition etl-canary".
 */
export function toBatchshipError(operation: string, error: unknown): BatchshipError {
  if (isBatchshipError(error)) return error;
  const name = errorName(error);
  const message = error instanceof Error ? error.message : String(error);
  if (message === "Region is missing") {
    return new BatchshipError("ENVIRONMENT", MISSING_REGION_MESSAGE, {
      cause: error,
      hint: `batchship needed it to ${operation}`,
    });
  }
  const { code, retryable, throttled, hint } = classify(error, name, message);
  return new BatchshipError(code, `Could not ${operation}: ${message || name || "unknown error"}`, {
    cause: error,
    retryable,
    ...(throttled === true ? { throttled } : {}),
    ...(hint === undefined ? {} : { hint }),
    ...(name === undefined ? {} : { awsErrorName: name }),
  });
}

/** Runs one SDK call; any failure becomes a BatchshipError naming the operation. */
export async function awsCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toBatchshipError(operation, error);
  }
}

/** The SDK error name, for branching on expected errors (RepositoryNotFoundException…). */
export function awsErrorName(error: unknown): string | undefined {
  if (isBatchshipError(error)) return error.awsErrorName;
  return errorName(error);
}

function classify(error: unknown, name: string | undefined, message: string): Classified {
  const fields = (typeof error === "object" && error !== null ? error : {}) as {
    code?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  const networkCode = typeof fields.code === "string" ? fields.code : undefined;
  const status = typeof fields.$metadata?.httpStatusCode === "number" ? fields.$metadata.httpStatusCode : undefined;

  if (networkCode !== undefined && UNREACHABLE_CODES.has(networkCode)) {
    // Nothing listens there or the host does not exist: configuration, not a passing fault.
    // Only a temporary DNS failure is worth waiting for.
    return { code: "ENVIRONMENT", retryable: networkCode === "EAI_AGAIN", hint: HINTS.unreachable };
  }
  if (name !== undefined && (name.startsWith("AccessDenied") || name === "UnauthorizedOperation")) {
    return { code: "ENVIRONMENT", retryable: false, hint: HINTS.accessDenied };
  }
  if (name !== undefined && CREDENTIAL_NAMES.has(name)) {
    return { code: "ENVIRONMENT", retryable: false, hint: HINTS.credentials };
  }
  const missing = missingResourceHint(error, name, message);
  if (missing !== undefined) return { code: "ENVIRONMENT", retryable: false, hint: missing };

  // Batch says "Too Many Requests" with HTTP 429 and a ClientException; others name the error.
  const throttled = status === 429 || (name !== undefined && THROTTLING_NAMES.has(name));
  const retryable =
    throttled ||
    Boolean(fields.$retryable) ||
    (status !== undefined && status >= 500) ||
    (name !== undefined && TRANSIENT_NAMES.has(name)) ||
    (networkCode !== undefined && NETWORK_CODES.has(networkCode));
  return { code: "AWS", retryable, throttled };
}

function missingResourceHint(error: unknown, name: string | undefined, message: string): string | undefined {
  if (name === "RepositoryNotFoundException") return HINTS.repository;
  if (error instanceof CodeBuildServiceException && name === "ResourceNotFoundException") {
    return HINTS.codebuildProject;
  }
  if (error instanceof BatchServiceException && name === "ClientException") {
    if (!/does ?n[o']t exist|not found|cannot be found|invalid/i.test(message)) return undefined;
    if (/job ?queue/i.test(message)) return HINTS.jobQueue;
    if (/job ?definition/i.test(message)) return HINTS.jobDefinition;
    if (/compute ?environment/i.test(message)) return HINTS.computeEnvironment;
  }
  return undefined;
}

function errorName(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const name = (error as { name?: unknown }).name;
  // Node's network errors are plain `Error`s: the useful word is their code.
  if (name === "Error" || typeof name !== "string") {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return name;
}
