import type { PromoteResult } from "../release/promote-release.js";
import type { ReleaseEvent } from "../release/events.js";
import type { ReleaseResult } from "../release/result.js";
import type { RollbackResult } from "../release/rollback.js";
import type { PipelineStatus } from "../release/status.js";

/** Every output action.yml declares; a test keeps the two in step. */
export const OUTPUT_NAMES = [
  "release-id",
  "status",
  "build-id",
  "image-uri",
  "image-digest",
  "image-reused-from",
  "candidate-job-definition-arn",
  "canary-job-id",
  "canary-result",
  "job-definition-arn",
  "promoted",
] as const;
export type OutputName = (typeof OUTPUT_NAMES)[number];
export type OutputValues = Partial<Record<OutputName, string>>;

/**
 * Writes outputs as they become known, each value once: the runner reads the outputs file even
 * when the step is cancelled or times out, so the build and canary ids set early still lead a
 * person to what is running.
 */
export function createOutputs(setOutput: (name: string, value: string) => void): (values: OutputValues) => void {
  const written = new Map<OutputName, string>();
  return (values) => {
    for (const name of OUTPUT_NAMES) {
      const value = values[name];
      if (value === undefined || written.get(name) === value) continue;
      written.set(name, value);
      setOutput(name, value);
    }
  };
}

/** What an engine event already tells, before the release ends. */
export function outputsOfEvent(event: ReleaseEvent): OutputValues {
  switch (event.type) {
    case "build-started":
      return { "build-id": event.buildId };
    case "image-resolved":
      return { "image-uri": event.uri, "image-digest": event.digest };
    case "image-reused":
      return { "image-reused-from": event.tag };
    case "candidate-registered":
      return { "candidate-job-definition-arn": event.arn };
    case "canary-submitted":
      return { "canary-job-id": event.jobId };
    default:
      return {};
  }
}

export function releaseOutputs(r: ReleaseResult): OutputValues {
  return {
    "release-id": r.releaseId,
    status: r.status,
    ...(r.build ? { "build-id": r.build.id } : {}),
    ...(r.image ? { "image-uri": r.image.uri, "image-digest": r.image.digest } : {}),
    ...(r.image?.reusedFrom === undefined ? {} : { "image-reused-from": r.image.reusedFrom }),
    ...(r.candidate ? { "candidate-job-definition-arn": r.candidate.arn } : {}),
    ...(r.canary ? { "canary-job-id": r.canary.jobId, "canary-result": r.canary.result } : {}),
    ...(r.production ? { "job-definition-arn": r.production.arn } : {}),
    promoted: String(r.status === "promoted"),
  };
}

export function promoteOutputs(r: PromoteResult): OutputValues {
  return {
    "release-id": r.releaseId,
    status: r.supersededBy ? "superseded" : "promoted",
    "image-uri": r.image.uri,
    "image-digest": r.image.digest,
    "candidate-job-definition-arn": r.candidate.arn,
    "canary-result": "passed",
    "job-definition-arn": r.production.arn,
    promoted: "true",
  };
}

export function rollbackOutputs(r: RollbackResult): OutputValues {
  return {
    "release-id": r.to.releaseId,
    status: "rolled-back",
    "image-uri": r.to.image,
    ...digestOf(r.to.image),
    "job-definition-arn": r.to.arn,
    promoted: "false",
  };
}

export function statusOutputs(s: PipelineStatus): OutputValues {
  const production = s.production;
  if (production === null) return { status: "no-production-revision" };
  return {
    status: "ok",
    ...(production.releaseId === null ? {} : { "release-id": production.releaseId }),
    "image-uri": production.image,
    ...digestOf(production.image),
    "job-definition-arn": production.arn,
  };
}

function digestOf(image: string): OutputValues {
  const digest = image.split("@")[1];
  return digest === undefined ? {} : { "image-digest": digest };
}
