import type { BackendLinks, ImageRepository } from "../release/ports.js";

/** Where Batch writes a job's output unless its logConfiguration names another log group. */
export const DEFAULT_BATCH_LOG_GROUP = "/aws/batch/job";

/** The console's host in each AWS partition. */
const CONSOLE_HOST: Record<string, string> = {
  aws: "console.aws.amazon.com",
  "aws-cn": "console.amazonaws.cn",
  "aws-us-gov": "console.amazonaws-us-gov.com",
};

/** The partition a region belongs to (cn-north-1 → aws-cn, us-gov-west-1 → aws-us-gov). */
export function partitionOf(region: string | undefined): string {
  if (region?.startsWith("cn-")) return "aws-cn";
  if (region?.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/**
 * AWS console links, in the console of the resource's partition. The region comes from the
 * resource itself when it names one (ARNs, ECR URIs), else from `region()`, which is undefined
 * until the clients have resolved it: the console then opens in the user's default region.
 */
export function createAwsLinks(region: () => string | undefined): BackendLinks {
  const console = (where: string | undefined, path: string, partition = partitionOf(where)): string => {
    const base = CONSOLE_HOST[partition] ?? CONSOLE_HOST.aws;
    // Regional console hosts are a commercial-partition habit; elsewhere the query names the region.
    const host = where && partition === "aws" ? `https://${where}.${base}` : `https://${base}`;
    const query = where ? `region=${where}` : "";
    return path.includes("?") || query === "" ? `${host}${path}` : `${host}${path}?${query}`;
  };
  const batchHome = (where: string | undefined, fragment: string, partition?: string): string =>
    console(where, `/batch/home${where ? `?region=${where}` : ""}#${fragment}`, partition);
  return {
    build(buildId) {
      // Build ids are `<project>:<uuid>`.
      const project = buildId.split(":")[0] ?? buildId;
      return console(
        region(),
        `/codesuite/codebuild/projects/${encodeURIComponent(project)}/build/${encodeURIComponent(buildId)}/`,
      );
    },
    image(repository: ImageRepository, digest) {
      const match = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\./.exec(repository.uri);
      const where = match?.[2] ?? region();
      const registry = match?.[1] ?? "";
      return console(
        where,
        `/ecr/repositories/private/${registry}/${repository.name}/_/image/${encodeURIComponent(digest)}/details`,
      );
    },
    jobDefinition(arn) {
      const [, partition, , arnRegion] = arn.split(":");
      const where = arnRegion || region();
      return batchHome(where, `job-definition/detail/${arn}`, partition || undefined);
    },
    job(jobId) {
      return batchHome(region(), `jobs/detail/${jobId}`);
    },
    log(logGroup, logStream) {
      const where = region();
      return console(
        where,
        `/cloudwatch/home${where ? `?region=${where}` : ""}#logsV2:log-groups/log-group/${consolePathPart(logGroup)}/log-events/${consolePathPart(logStream)}`,
      );
    },
  };
}

/** The CloudWatch console's own escaping in its fragment: URI-encoded twice, `%` written `$`. */
function consolePathPart(name: string): string {
  return encodeURIComponent(encodeURIComponent(name)).replace(/%/g, "$");
}
