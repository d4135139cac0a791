import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeRegistryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  PutImageCommand,
  type ECRClient,
  type Image,
  type ImageIdentifier,
  type Repository,
} from "@aws-sdk/client-ecr";
import { BatchshipError } from "../errors.js";
import type { ImageRepository, Registry } from "../release/ports.js";
import { awsCall, awsErrorName } from "./errors.js";

/**
 * How batchship creates a repository: every tag names one image forever, so a re-run can never
 * overwrite a released image. The buildspec's layer cache rides inside the images and needs no
 * tag of its own, so there is no exclusion.
 */
export const REPOSITORY_TAG_MUTABILITY = "IMMUTABLE";

/** `image.repository` as ECR knows it: a name, plus the registry when a full URI was given. */
export interface EcrRepositoryRef {
  name: string;
  registryId?: string;
  region?: string;
}

// 123456789012.dkr.ecr.us-east-1.amazonaws.com (also -fips and the .com.cn partition)
const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

export function parseEcrRepository(repository: string): EcrRepositoryRef {
  const slash = repository.indexOf("/");
  const first = slash < 0 ? "" : repository.slice(0, slash);
  // Like docker: a first segment with a dot, a port or "localhost" is a registry host.
  if (!/[.:]/.test(first) && first !== "localhost") return { name: repository };
  const match = ECR_HOST.exec(first);
  if (!match) {
    throw new BatchshipError(
      "ENVIRONMENT",
      `image.repository ${repository} is not an ECR repository; the codebuild backend pushes to ECR`,
      { hint: "use an ECR repository name (etl) or URI (123456789012.dkr.ecr.us-east-1.amazonaws.com/etl)" },
    );
  }
  return { name: repository.slice(slash + 1), registryId: match[1] ?? "", region: match[2] ?? "" };
}

export function createEcrRegistry(ecr: ECRClient, region: () => Promise<string>): Registry {
  async function describe(ref: EcrRepositoryRef): Promise<Repository | undefined> {
    try {
      const output = await awsCall(`describe ECR repository ${ref.name}`, () =>
        ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [ref.name], ...registry(ref) })),
      );
      return output.repositories?.[0];
    } catch (error) {
      if (awsErrorName(error) === "RepositoryNotFoundException") return undefined;
      throw error;
    }
  }

  async function create(ref: EcrRepositoryRef): Promise<Repository | undefined> {
    try {
      const output = await awsCall(`create ECR repository ${ref.name}`, () =>
        ecr.send(
          new CreateRepositoryCommand({
            repositoryName: ref.name,
            imageTagMutability: REPOSITORY_TAG_MUTABILITY,
            ...registry(ref),
          }),
        ),
      );
      return output.repository;
    } catch (error) {
      // Another release created it in between.
      if (awsErrorName(error) === "RepositoryAlreadyExistsException") return describe(ref);
      throw error;
    }
  }

  return {
    async ensureRepository(repository) {
      const ref = parseEcrRepository(repository);
      if (ref.region !== undefined) {
        const current = await region();
        if (ref.region !== current) {
          throw new BatchshipError(
            "ENVIRONMENT",
            `image.repository ${repository} is in ${ref.region} but batchship runs in ${current}`,
            { hint: "set AWS_REGION to the repository's region, or use a repository in this region" },
          );
        }
      }
      let found = await describe(ref);
      if (found === undefined) {
        await ensureOwnAccount(ecr, ref, repository);
        found = await create(ref);
      }
      if (!found?.repositoryUri) {
        throw new BatchshipError("AWS", `Could not ensure ECR repository ${ref.name}: ECR returned no repository URI`);
      }
      return { name: found.repositoryName ?? ref.name, uri: found.repositoryUri };
    },

    async findDigest(repository, tag) {
      const ref = refOf(repository);
      try {
        const output = await awsCall(`describe image ${repository.name}:${tag}`, () =>
          ecr.send(
            new DescribeImagesCommand({ repositoryName: ref.name, imageIds: [{ imageTag: tag }], ...registry(ref) }),
          ),
        );
        return output.imageDetails?.[0]?.imageDigest;
      } catch (error) {
        if (awsErrorName(error) === "ImageNotFoundException") return undefined;
        throw error;
      }
    },

    async findTags(repository, tags) {
      const found = new Map<string, string>();
      for (let start = 0; start < tags.length; start += BATCH_GET_IMAGE_IDS) {
        const chunk = tags.slice(start, start + BATCH_GET_IMAGE_IDS);
        for (const image of await batchGetImages(repository, chunk.map((imageTag) => ({ imageTag })))) {
          const tag = image.imageId?.imageTag;
          const digest = image.imageId?.imageDigest;
          if (tag !== undefined && digest !== undefined) found.set(tag, digest);
        }
      }
      return found;
    },

    async addTags(repository, digest, tags) {
      const [image] = await batchGetImages(repository, [{ imageDigest: digest }]);
      if (image?.imageManifest === undefined) {
        throw new BatchshipError("ENVIRONMENT", `Could not tag image ${repository.name}@${digest}: ECR has no such image`, {
          hint: "the image was deleted (a lifecycle policy?); release with --rebuild to build it again",
        });
      }
      const ref = refOf(repository);
      for (const tag of tags) {
        try {
          await awsCall(`tag image ${repository.name}@${digest} as ${tag}`, () =>
            ecr.send(
              new PutImageCommand({
                repositoryName: ref.name,
                imageManifest: image.imageManifest,
                ...(image.imageManifestMediaType === undefined ? {} : { imageManifestMediaType: image.imageManifestMediaType }),
                // ECR refuses the call when the manifest does not hash to this digest.
                imageDigest: digest,
                imageTag: tag,
                ...registry(ref),
              }),
            ),
          );
        } catch (error) {
          const name = awsErrorName(error);
          // The tag is on this very image already (an earlier run, or a lost answer).
          if (name === "ImageAlreadyExistsException") continue;
          if (name === "ImageTagAlreadyExistsException") {
            throw new BatchshipError(
              "ENVIRONMENT",
              `Could not tag image ${repository.name}@${digest} as ${tag}: the tag names another image, and tags are immutable`,
              { awsErrorName: name, cause: error, hint: "image.tags must name the commit: include {sha} or {shortSha} in every tag" },
            );
          }
          throw error;
        }
      }
    },
  };

  async function batchGetImages(repository: ImageRepository, imageIds: ImageIdentifier[]): Promise<Image[]> {
    const ref = refOf(repository);
    const output = await awsCall(`read image manifests of ${repository.name}`, () =>
      ecr.send(
        new BatchGetImageCommand({
          repositoryName: ref.name,
          imageIds,
          // As pushed: ECR would otherwise convert an OCI manifest, and the digest with it.
          acceptedMediaTypes: [...MANIFEST_MEDIA_TYPES],
          ...registry(ref),
        }),
      ),
    );
    // Failures are ids that do not exist (ImageNotFound): that is the answer, not an error.
    return output.images ?? [];
  }
}

/**
 * A repository named by a URI in another account is that account's to create: batchship would
 * create it in its own registry, or be refused. The one place that says so (doctor uses it too).
 */
export async function ensureOwnAccount(ecr: ECRClient, ref: EcrRepositoryRef, repository: string): Promise<void> {
  if (ref.registryId === undefined) return;
  const own = await awsCall("describe this account's ECR registry", () => ecr.send(new DescribeRegistryCommand({})));
  if (own.registryId === undefined || own.registryId === ref.registryId) return;
  throw new BatchshipError("ENVIRONMENT", otherAccountMessage(repository, ref.registryId), {
    hint: otherAccountHint(ref.registryId),
  });
}

function otherAccountMessage(repository: string, registryId: string): string {
  return `image.repository ${repository} does not exist, and batchship does not create repositories in another account (${registryId})`;
}

function otherAccountHint(registryId: string): string {
  return `account ${registryId} must create it (tags IMMUTABLE), with a repository policy that lets this account push and pull`;
}

/** BatchGetImage takes at most 100 image ids. */
const BATCH_GET_IMAGE_IDS = 100;

const MANIFEST_MEDIA_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
] as const;

function refOf(repository: ImageRepository): EcrRepositoryRef {
  const registryId = /^(\d{12})\./.exec(repository.uri)?.[1];
  return registryId === undefined ? { name: repository.name } : { name: repository.name, registryId };
}

function registry(ref: EcrRepositoryRef): { registryId?: string } {
  return ref.registryId === undefined ? {} : { registryId: ref.registryId };
}
