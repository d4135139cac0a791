import { errorReply } from "./aws-errors.js";
import type { Interceptors } from "./interceptor.js";
import { motoJsonCall } from "./moto-client.js";
import { isOk, replyJson, withJsonBody } from "./reply.js";
import { tagMayMove } from "./tag-mutability.js";

/**
 * ECR where moto answers differently. Tag immutability, which moto does not hold: a PutImage that
 * would move an existing tag to another manifest is refused with ImageTagAlreadyExistsException
 * where ECR's rule (tag-mutability.ts) keeps the tag. The same
 * manifest under the same tag goes to moto, which answers ImageAlreadyExistsException as ECR does.
 */
export function ecrInterceptors(motoEndpoint: string): Interceptors {
  return {
    // ECR answers each image under the id it was asked for; moto names a found image by its
    // last tag, whatever tag was asked. The ids are resolved here against moto's image list.
    "ecr.BatchGetImage": async ({ call, forward }) => {
      const reply = await forward();
      if (!isOk(reply)) return reply;
      const { imageIds, repositoryName, acceptedMediaTypes } = call.input ?? {};
      if (!Array.isArray(imageIds)) return reply;
      const listed = await motoJsonCall(motoEndpoint, "ecr", "DescribeImages", { repositoryName, maxResults: 1000 });
      const digestOfTag = new Map<string, string>();
      for (const detail of listed.json?.imageDetails ?? []) {
        for (const tag of detail.imageTags ?? []) digestOfTag.set(tag, detail.imageDigest);
      }
      const manifests = new Map<string, any>();
      const images: unknown[] = [];
      const failures: unknown[] = [];
      for (const imageId of imageIds) {
        const digest = imageId?.imageDigest ?? digestOfTag.get(imageId?.imageTag);
        if (digest === undefined || (imageId?.imageTag !== undefined && digestOfTag.get(imageId.imageTag) !== digest)) {
          failures.push({ imageId, failureCode: "ImageNotFound", failureReason: "Requested image not found" });
          continue;
        }
        if (!manifests.has(digest)) {
          const one = await motoJsonCall(motoEndpoint, "ecr", "BatchGetImage", { repositoryName, acceptedMediaTypes, imageIds: [{ imageDigest: digest }] });
          manifests.set(digest, one.json?.images?.[0]);
        }
        const image = manifests.get(digest);
        if (image === undefined) failures.push({ imageId, failureCode: "ImageNotFound", failureReason: "Requested image not found" });
        else images.push({ ...image, imageId: { ...imageId, imageDigest: digest } });
      }
      return withJsonBody(reply, { ...replyJson(reply), images, failures });
    },

    "ecr.PutImage": async ({ call, forward }) => {
      const { repositoryName, imageTag, imageManifest } = call.input ?? {};
      if (typeof repositoryName !== "string" || typeof imageTag !== "string") return forward();
      const described = await motoJsonCall(motoEndpoint, "ecr", "DescribeRepositories", { repositoryNames: [repositoryName] });
      const repository = described.json?.repositories?.[0];
      if (repository === undefined || tagMayMove(repository, imageTag)) return forward();
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
