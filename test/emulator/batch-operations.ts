/**
 * Batch speaks restJson1: the operation is only in the path (`POST /v1/submitjob`), lower case.
 * Recorded calls use the API's own PascalCase names, so tests read like the AWS docs.
 */
const BATCH_OPERATIONS = [
  "CancelJob",
  "CreateComputeEnvironment",
  "CreateJobQueue",
  "CreateSchedulingPolicy",
  "DeleteComputeEnvironment",
  "DeleteJobQueue",
  "DeleteSchedulingPolicy",
  "DeregisterJobDefinition",
  "DescribeComputeEnvironments",
  "DescribeJobDefinitions",
  "DescribeJobQueues",
  "DescribeJobs",
  "DescribeSchedulingPolicies",
  "GetJobQueueSnapshot",
  "ListJobs",
  "ListSchedulingPolicies",
  "RegisterJobDefinition",
  "SubmitJob",
  "TerminateJob",
  "UpdateComputeEnvironment",
  "UpdateJobQueue",
  "UpdateSchedulingPolicy",
] as const;

const BY_PATH_NAME = new Map<string, string>(BATCH_OPERATIONS.map((name) => [name.toLowerCase(), name]));

/** Operation name for a Batch request path, e.g. `POST /v1/tags/<arn>` → TagResource. */
export function batchOperation(method: string, path: string): string {
  if (path.startsWith("/v1/tags/")) {
    if (method === "GET") return "ListTagsForResource";
    if (method === "DELETE") return "UntagResource";
    return "TagResource";
  }
  const name = path.replace(/^\/v1\//, "").replace(/\/.*$/, "");
  return BY_PATH_NAME.get(name) ?? name;
}

/** The resource ARN of a tags path (`/v1/tags/<url-encoded arn>`). */
export function taggedResourceArn(path: string): string | undefined {
  if (!path.startsWith("/v1/tags/")) return undefined;
  return decodeURIComponent(path.slice("/v1/tags/".length));
}
