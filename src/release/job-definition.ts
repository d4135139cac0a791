import { createHash } from "node:crypto";
import type { PipelineSpec } from "../spec/schema.js";
import { mapImages, imagesOf } from "./image-slots.js";
import { JOB_DEFINITION_BODY_KEYS, type JobDefinitionBody, type JobDefinitionRevision } from "./ports.js";
import { TAG } from "./tags.js";

export function candidateName(spec: PipelineSpec): string {
  return `${spec.jobDefinition.name}-canary`;
}

/**
 * The RegisterJobDefinition body for the spec: the spec's members as written, with the built
 * image, pinned by digest, wherever the spec leaves an image out. A spec without any kind of
 * properties is a container job running the image's own command.
 */
export function jobDefinitionBody(spec: PipelineSpec, imageUri: string): JobDefinitionBody {
  const def = spec.jobDefinition;
  const body: JobDefinitionBody = { type: def.nodeProperties === undefined ? "container" : "multinode" };
  // Jobs on EKS take no platform capabilities; the others default to EC2, as Batch does.
  if (def.eksProperties === undefined) body.platformCapabilities = [...(def.platformCapabilities ?? ["EC2"])];
  const kinds = [def.containerProperties, def.ecsProperties, def.eksProperties, def.nodeProperties];
  if (kinds.every((kind) => kind === undefined)) body.containerProperties = {};
  const members: Partial<Record<(typeof JOB_DEFINITION_BODY_KEYS)[number], unknown>> = def;
  for (const key of JOB_DEFINITION_BODY_KEYS) {
    const value = members[key];
    if (key === "platformCapabilities" || value === undefined || value === false) continue;
    if (typeof value === "object" && value !== null && Object.keys(value).length === 0 && key !== "containerProperties") continue;
    (body as unknown as Record<string, unknown>)[key] = structuredClone(value);
  }
  return mapImages(body, (image) => image ?? imageUri);
}

/** Order-independent JSON, so the hash depends on content only. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Identifies a registration by content: same body → same hash → the revision is reused. */
export function specHash(body: JobDefinitionBody): string {
  return createHash("sha256").update(canonicalJson(body)).digest("hex");
}

export function findBySpecHash(
  revisions: readonly JobDefinitionRevision[],
  hash: string,
): JobDefinitionRevision | undefined {
  return revisions.find((r) => r.tags[TAG.specHash] === hash);
}

/**
 * The image the release built, in a registered revision: the one pinned to the revision's
 * image-digest tag, else the single container's, else the first pinned by digest.
 */
export function imageOf(revision: JobDefinitionRevision): string {
  const images = imagesOf(revision.body);
  const digest = revision.tags[TAG.imageDigest];
  const containerImage = revision.body.containerProperties?.["image"];
  return (
    (digest === undefined ? undefined : images.find((image) => image.endsWith(`@${digest}`))) ??
    (typeof containerImage === "string" ? containerImage : undefined) ??
    images.find((image) => image.includes("@sha256:")) ??
    images[0] ??
    ""
  );
}

/**
 * The body with another built image: every image from the same repository as `imageUri` (the
 * places the spec left to batchship) is replaced; a sidecar's image from elsewhere stays.
 */
export function withBuiltImage(body: JobDefinitionBody, imageUri: string): JobDefinitionBody {
  const repository = repositoryOf(imageUri);
  const replaced = mapImages(body, (image) => (image !== undefined && repositoryOf(image) === repository ? imageUri : image));
  if (body.containerProperties !== undefined) replaced.containerProperties = { ...body.containerProperties, image: imageUri };
  return replaced;
}

function repositoryOf(image: string): string {
  const at = image.indexOf("@");
  if (at >= 0) return image.slice(0, at);
  const colon = image.lastIndexOf(":");
  return colon > image.lastIndexOf("/") ? image.slice(0, colon) : image;
}
