import { releaseIdFor } from "../release/release-id.js";
import { HttpError } from "../server/http-error.js";
import type { ReleaseRequest } from "../server/release-request.js";
import { branchMatches } from "../spec/templates.js";
import type { ReleaseRecord } from "../store/index.js";
import type { ServiceState } from "./service-state.js";

/**
 * A release asked for through the API: the head of a tracked branch, like a push would queue it,
 * with `rebuild` to build its image even when one with the same content exists (a base image
 * that moved on). One commit of one pipeline is one release, so asking twice queues nothing
 * twice: a queued release takes the flag, and one that has started is answered as it is when
 * it was asked for the same way. A started release cannot be rebuilt: its image carries the
 * commit's tag, and tags never move (docs/reuse.md).
 */
export async function queueRelease(state: ServiceState & { wakeWorkers(): void }, name: string, request: ReleaseRequest): Promise<{ queued: boolean; release: ReleaseRecord }> {
  const spec = state.pipelines.current().specs.get(name);
  if (spec === undefined) throw new HttpError(404, "PIPELINE_NOT_FOUND", `No pipeline ${name}`);
  const tracked = spec.source.branches.join(", ");
  if (request.branch !== undefined && !branchMatches(spec.source.branches, request.branch)) {
    throw new HttpError(400, "BRANCH_NOT_TRACKED", `Cannot release ${name} from branch ${request.branch}: the pipeline tracks ${tracked}`);
  }
  const cloneUrl = spec.source.url ?? `${state.config.githubUrl}/${spec.source.repository}.git`;
  // Production only moves to a branch's head, so only a head is worth releasing; asking git also
  // proves the commit exists before anything is queued.
  const heads = await state.mirrors.remoteHeads(cloneUrl);
  const branches = [...heads]
    .filter(([branch, head]) => head === request.commit && branchMatches(spec.source.branches, branch) && (request.branch === undefined || branch === request.branch))
    .map(([branch]) => branch);
  const branch = branches[0];
  if (branch === undefined) {
    throw new HttpError(409, "NOT_BRANCH_HEAD", `Cannot release ${request.commit} for ${name}: it is not the head of a tracked branch (${tracked}); push it first`);
  }
  if (branches.length > 1) {
    throw new HttpError(400, "BRANCH_AMBIGUOUS", `Commit ${request.commit} heads several tracked branches of ${name} (${branches.join(", ")}); name one with "branch"`);
  }

  const now = state.clock();
  const release = {
    id: releaseIdFor(spec.name, request.commit),
    pipeline: spec.name,
    repository: spec.source.repository,
    commit: request.commit,
    branch,
    cloneUrl,
    specJson: JSON.stringify(spec),
    deliveryId: `api-${now}`,
    rebuild: request.rebuild,
  };
  const queued = state.store.transaction(() => {
    if (!state.store.releases.enqueue(release, now)) return false;
    state.statuses.queue(release, { kind: "queued" }, now);
    return true;
  });
  const record = state.store.releases.get(release.id);
  if (record === undefined) throw new Error(`release ${release.id} vanished from the store`);
  if (queued) {
    state.logger.info("release queued through the API", { releaseId: release.id, pipeline: name, commit: request.commit, branch, rebuild: request.rebuild });
    state.wakeWorkers();
    return { queued, release: record };
  }
  if (request.rebuild && !record.rebuild) {
    throw new HttpError(
      409,
      "ALREADY_RELEASED",
      `Cannot rebuild ${release.id}: it is ${record.status} with the image it has, and the commit's image tag never moves; push a new commit and ask for its release with rebuild`,
    );
  }
  return { queued, release: record };
}
