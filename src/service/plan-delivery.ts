import { DELETED_SHA, branchOfRef, narrowPush } from "../github/push-payload.js";
import { releaseIdFor } from "../release/release-id.js";
import type { NewRelease } from "../store/types.js";
import { HttpError } from "../server/http-error.js";
import { pipelinesForPush, pipelinesForRepository, type PipelineSet } from "./pipeline-set.js";

export interface DeliveryPlan {
  outcome: "accepted" | "ignored" | "ping";
  httpStatus: 200 | 202 | 204;
  reason?: string;
  repository?: string;
  ref?: string;
  after?: string;
  releases: Omit<NewRelease, "deliveryId">[];
  /** A push to the config repository: reload the pipelines after answering. */
  reloadPipelines: boolean;
}

/**
 * What a verified delivery means, decided before anything is written: which releases it
 * queues, or why it is ignored. Pure, so every rule is one unit test away.
 */
export function planDelivery(
  event: string,
  payload: unknown,
  context: { pipelines: PipelineSet; configRepository: string | undefined; githubUrl: string },
): DeliveryPlan {
  if (event === "ping") return { outcome: "ping", httpStatus: 200, releases: [], reloadPipelines: false };
  if (event !== "push") return ignored(`event ${event} is not handled`);

  const narrowed = narrowPush(payload);
  if (!narrowed.ok) throw new HttpError(400, "MALFORMED_PUSH", `Malformed push payload: ${narrowed.problems.join("; ")}`);
  const { push } = narrowed;
  const facts = { repository: push.repository.full_name, ref: push.ref, after: push.after };
  const isConfig = context.configRepository !== undefined && push.repository.full_name.toLowerCase() === context.configRepository.toLowerCase();

  if (push.deleted || push.after === DELETED_SHA) return { ...ignored("branch deleted"), ...facts };
  const branch = branchOfRef(push.ref);
  if (branch === undefined) return { ...ignored("not a branch push"), ...facts };
  if (!isConfig && pipelinesForRepository(context.pipelines, push.repository.full_name).length === 0) {
    return { ...ignored("no pipeline names this repository"), ...facts };
  }
  const specs = pipelinesForPush(context.pipelines, push.repository.full_name, branch);
  if (specs.length === 0 && !isConfig) return { ...ignored(`branch ${branch} is not tracked by any pipeline`), ...facts };

  const defaultUrl = `${context.githubUrl}/${push.repository.full_name}.git`;
  return {
    outcome: "accepted",
    httpStatus: 202,
    ...facts,
    ...(specs.length === 0 ? { reason: "config repository updated" } : {}),
    releases: specs.map((spec) => ({
      id: releaseIdFor(spec.name, push.after),
      pipeline: spec.name,
      repository: push.repository.full_name,
      commit: push.after,
      branch,
      cloneUrl: spec.source.url ?? defaultUrl,
      specJson: JSON.stringify(spec),
    })),
    reloadPipelines: isConfig,
  };
}

function ignored(reason: string): DeliveryPlan {
  return { outcome: "ignored", httpStatus: 204, reason, releases: [], reloadPipelines: false };
}
