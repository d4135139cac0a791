import { BatchClient, type BatchClientConfig } from "@aws-sdk/client-batch";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { CodeBuildClient } from "@aws-sdk/client-codebuild";
import { ECRClient } from "@aws-sdk/client-ecr";
import { BatchshipError } from "../errors.js";
import { limitCallsInFlight, REQUEST_HANDLER_OPTIONS } from "./calls-in-flight.js";

export interface AwsClientOptions {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  maxAttempts?: number;
  /** A smithy retry strategy (e.g. ConfiguredRetryStrategy with a tiny delay in tests). */
  retryStrategy?: BatchClientConfig["retryStrategy"];
  /** The SDK's retry mode; default `adaptive` unless AWS_RETRY_MODE says otherwise or a retryStrategy is given. */
  retryMode?: "standard" | "adaptive" | "legacy";
}

export interface AwsClients {
  batch: BatchClient;
  ecr: ECRClient;
  codebuild: CodeBuildClient;
  /** The canary children's output (`batchship logs`). */
  logs: CloudWatchLogsClient;
  /** Same as `batch` but maxAttempts 1, for calls with no idempotency token. */
  batchOnce: BatchClient;
  /** The resolved region; a BatchshipError (ENVIRONMENT) when there is none. */
  region: () => Promise<string>;
}

export const MISSING_REGION_MESSAGE =
  "Could not determine the AWS region: set AWS_REGION or a profile region";

/**
 * Only the options actually given reach the SDK, so that with none it resolves region,
 * profile, endpoints (AWS_ENDPOINT_URL[_BATCH|_ECR|_CODEBUILD|_CLOUDWATCH_LOGS]) and AWS_MAX_ATTEMPTS itself.
 *
 * The retry mode is `adaptive` unless AWS_RETRY_MODE is set: each client keeps a token bucket
 * that, once AWS throttles any of its calls, slows every call the client sends and speeds up
 * again as calls succeed. The service makes one backend, so one client per AWS API, for all its
 * releases: a storm slows them all evenly instead of failing them one by one. Each client has at
 * most MAX_CALLS_IN_FLIGHT calls in flight; the others wait before the SDK builds them.
 */
export function createAwsClients(options: AwsClientOptions = {}, env: NodeJS.ProcessEnv = process.env): AwsClients {
  const base = {
    requestHandler: REQUEST_HANDLER_OPTIONS,
    // The middleware stack is resolved once per command class instead of on every call (sorting
    // it was a tenth of the service's CPU while 1,000 releases started); nothing here changes a
    // stack after the first call.
    cacheMiddleware: true,
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  };
  const retryMode = options.retryStrategy !== undefined ? undefined : (options.retryMode ?? (env.AWS_RETRY_MODE ? undefined : "adaptive"));
  const mode = retryMode === undefined ? {} : { retryMode };
  const retries = {
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    ...(options.retryStrategy === undefined ? {} : { retryStrategy: options.retryStrategy }),
    ...mode,
  };
  const batch = prepared(new BatchClient({ ...base, ...retries }));
  // A retry strategy would override maxAttempts, so batchOnce gets none.
  const batchOnce = prepared(new BatchClient({ ...base, maxAttempts: 1, ...mode }));
  let resolved: Promise<string> | undefined;
  return {
    batch,
    batchOnce,
    ecr: prepared(new ECRClient({ ...base, ...retries })),
    codebuild: prepared(new CodeBuildClient({ ...base, ...retries })),
    logs: prepared(new CloudWatchLogsClient({ ...base, ...retries })),
    region: () => (resolved ??= resolveRegion(batch)),
  };
}

/**
 * Each client: at most MAX_CALLS_IN_FLIGHT calls in flight, and without the SDK's logger
 * middleware. batchship gives the SDK no logger, but that middleware still copied every call's
 * input and output (filtering sensitive fields) for the SDK's no-op default logger: an eighth
 * of the service's garbage with 1,000 releases in flight.
 */
function prepared<C extends Parameters<typeof limitCallsInFlight>[0] & { middlewareStack: { remove(name: string): boolean } }>(client: C): C {
  client.middlewareStack.remove("loggerMiddleware");
  return limitCallsInFlight(client);
}

async function resolveRegion(client: BatchClient): Promise<string> {
  let region: string | undefined;
  try {
    region = await client.config.region();
  } catch (error) {
    throw new BatchshipError("ENVIRONMENT", MISSING_REGION_MESSAGE, { cause: error });
  }
  if (!region) throw new BatchshipError("ENVIRONMENT", MISSING_REGION_MESSAGE);
  return region;
}
