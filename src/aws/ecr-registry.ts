import {
  CreateRepositoryCommand,
  DescribeRegistryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  type ECRClient,
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
  };
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

function refOf(repository: ImageRepository): EcrRepositoryRef {
  const registryId = /^(\d{12})\./.exec(repository.uri)?.[1];
  return registryId === undefined ? { name: repository.name } : { name: repository.name, registryId };
}

function registry(ref: EcrRepositoryRef): { registryId?: string } {
  return ref.registryId === undefined ? {} : { registryId: ref.registryId };
}
