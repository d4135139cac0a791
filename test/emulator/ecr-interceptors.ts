import { errorReply } from "./aws-errors.js";
import type { Interceptors } from "./interceptor.js";
import { motoJsonCall } from "./moto-client.js";

/**
 * ECR's tag immutability, which moto does not hold: in a repository with IMMUTABLE tags (or
 * IMMUTABLE_WITH_EXCLUSION, for tags no exclusion filter matches) a PutImage that would move an
 * existing tag to another manifest is refused with ImageTagAlreadyExistsException. The same
 * manifest under the same tag goes to moto, which answers ImageAlreadyExistsException as ECR does.
 */
export function ecrInterceptors(motoEndpoint: string): Interceptors {
  return {
    "ecr.PutImage": async ({ call, forward }) => {
      const { repositoryName, imageTag, imageManifest } = call.input ?? {};
      if (typeof repositoryName !== "string" || typeof imageTag !== "string") return forward();
      const described = await motoJsonCall(motoEndpoint, "ecr", "DescribeRepositories", { repositoryNames: [repositoryName] });
      const repository = described.json?.repositories?.[0];
      if (repository === undefined || !immutable(repository, imageTag)) return forward();
      const current = await motoJsonCall(motoEndpoint, "ecr", "BatchGetImage", { repositoryName, imageIds: [{ imageTag }] });
      const existing = current.json?.images?.[0];
      if (existing !== undefined && existing.imageManifest !== imageManifest) {
        return errorReply(
          call.protocol,
          400,
          "ImageTagAlreadyExistsException",
          `The image tag '${imageTag}' already exists in the '${repositoryName}' repository and cannot be overwritten because the repository is immutable.`,
        );
      }
      return forward();
    },
  };
}

function immutable(repository: any, tag: string): boolean {
  const mutability = String(repository.imageTagMutability ?? "MUTABLE");
  if (mutability === "IMMUTABLE") return true;
  if (mutability !== "IMMUTABLE_WITH_EXCLUSION") return false;
  const filters: any[] = Array.isArray(repository.imageTagMutabilityExclusionFilters) ? repository.imageTagMutabilityExclusionFilters : [];
  return !filters.some((filter) => filter?.filterType === "WILDCARD" && wildcard(String(filter.filter)).test(tag));
}

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}
