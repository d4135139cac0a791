import type { BackendLinks, ImageRepository } from "../release/ports.js";

/**
 * AWS console links. The region comes from the resource itself when it names one (ARNs, ECR
 * URIs), else from `region()`, which is undefined until the clients have resolved it: the
 * console then opens in the user's default region.
 */
export function createAwsLinks(region: () => string | undefined): BackendLinks {
  const console = (where: string | undefined, path: string): string => {
    const host = where ? `https://${where}.console.aws.amazon.com` : "https://console.aws.amazon.com";
    const query = where ? `region=${where}` : "";
    return path.includes("?") || query === "" ? `${host}${path}` : `${host}${path}?${query}`;
  };
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
      const where = arn.split(":")[3] || region();
      return console(where, `/batch/home${where ? `?region=${where}` : ""}#job-definition/detail/${arn}`);
    },
    job(jobId) {
      const where = region();
      return console(where, `/batch/home${where ? `?region=${where}` : ""}#jobs/detail/${jobId}`);
    },
  };
}
