import { isBatchshipRecordCommit, isReleasesBranchPush } from "../git/record-commit-marker.js";
import { DELETED_SHA, branchOfRef, narrowPush } from "../github/push-payload.js";
import { releaseIdFor } from "../release/release-id.js";
import type { NewRelease } from "../store/types.js";
import { HttpError } from "../server/http-error.js";
import { pipelinesToReconcile, releasesBranchesOf } from "./gitops-routing.js";
import { pipelinesForPush, pipelinesForRepository, type PipelineSet } from "./pipeline-set.js";

/** A GitOps pipeline whose records a releases-branch push may have changed, with its spec frozen as for a release. */
export interface PlannedReconcile {
  pipeline: string;
  specJson: string;
}

export interface DeliveryPlan {
  outcome: "accepted" | "ignored" | "ping";
  httpStatus: 200 | 202 | 204;
  reason?: string;
  repository?: string;
  ref?: string;
  after?: string;
  /** What the push says, as a key: a later delivery with the same key is a copy of this one. */
  contentKey?: string;
  releases: Omit<NewRelease, "deliveryId">[];
  /** A push to a releases branch: make Batch match these pipelines' records, after answering. */
  reconciles: PlannedReconcile[];
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
  context: {
    pipelines: PipelineSet;
    configRepository: string | undefined;
    githubUrl: string;
    /** The config checkout's origin URL: the records repository of GitOps specs that name none. */
    configOrigin?: string | undefined;
  },
): DeliveryPlan {
  if (event === "ping") return { outcome: "ping", httpStatus: 200, releases: [], reconciles: [], reloadPipelines: false };
  if (event !== "push") return ignored(`event ${event} is not handled`);

  const narrowed = narrowPush(payload);
  if (!narrowed.ok) throw new HttpError(400, "MALFORMED_PUSH", `Malformed push payload: ${narrowed.problems.join("; ")}`);
  const { push } = narrowed;
  const facts = {
    repository: push.repository.full_name,
    ref: push.ref,
    after: push.after,
    // The ref moved from `before` to `after` once: a second delivery saying so is the same push seen
    // twice (a repository and an organisation webhook; a captured body sent again). A push that
    // moves the ref back (a force push) has another `before`, so it is new.
    ...(push.before === undefined ? {} : { contentKey: `push ${push.repository.full_name.toLowerCase()} ${push.ref} ${push.before}..${push.after}` }),
  };
  const isConfig = context.configRepository !== undefined && push.repository.full_name.toLowerCase() === context.configRepository.toLowerCase();

  if (push.deleted || push.after === DELETED_SHA) return { ...ignored("branch deleted"), ...facts };
  const branch = branchOfRef(push.ref);
  if (branch === undefined) return { ...ignored("not a branch push"), ...facts };

  // Loop prevention: what batchship commits (records, on a releases branch) never releases.
  if (isReleasesBranchPush(push.ref, releasesBranchesOf(context.pipelines))) {
    const commits = push.commits?.length ? push.commits : push.head_commit ? [push.head_commit] : [];
    const messages = commits.map((c) => c.message);
    const specs = pipelinesToReconcile(
      context.pipelines,
      { repository: push.repository.full_name, cloneUrl: push.repository.clone_url, branch, messages },
      { configOrigin: context.configOrigin, configRepository: context.configRepository, githubUrl: context.githubUrl },
    );
    if (specs.length === 0) return { ...ignored(`push to releases branch ${branch}; no pipeline keeps its records here`), ...facts };
    return {
      outcome: "accepted",
      httpStatus: 202,
      ...facts,
      reason: `push to releases branch ${branch}: reconcile`,
      releases: [],
      reconciles: specs.map((spec) => ({ pipeline: spec.name, specJson: JSON.stringify(spec) })),
      reloadPipelines: false,
    };
  }
  if (isBatchshipRecordCommit(push.head_commit?.message ?? "")) return { ...ignored("head commit is a batchship record commit"), ...facts };

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
    reconciles: [],
    reloadPipelines: isConfig,
  };
}

function ignored(reason: string): DeliveryPlan {
  return { outcome: "ignored", httpStatus: 204, reason, releases: [], reconciles: [], reloadPipelines: false };
}
