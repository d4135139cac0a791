import { createHash } from "node:crypto";
import type { PipelineSpec } from "../spec/schema.js";
import type { JobDefinitionBody, JobDefinitionRevision } from "./ports.js";
import { TAG } from "./tags.js";

export function candidateName(spec: PipelineSpec): string {
  return `${spec.jobDefinition.name}-canary`;
}

/** The RegisterJobDefinition body for the spec, with the image pinned by digest. */
export function jobDefinitionBody(spec: PipelineSpec, imageUri: string): JobDefinitionBody {
  const def = spec.jobDefinition;
  const body: JobDefinitionBody = {
    type: "container",
    platformCapabilities: [...def.platformCapabilities],
    containerProperties: { ...def.containerProperties, image: imageUri },
  };
  if (Object.keys(def.retryStrategy).length > 0) body.retryStrategy = def.retryStrategy;
  if (Object.keys(def.timeout).length > 0) body.timeout = def.timeout;
  if (Object.keys(def.parameters).length > 0) body.parameters = def.parameters;
  return body;
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

export function imageOf(revision: JobDefinitionRevision): string {
  return revision.body.containerProperties.image;
}
