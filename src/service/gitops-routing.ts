import { DEFAULT_RELEASES_BRANCH, isBatchshipRecordCommit, recordPipelineOf } from "../git/record-commit-marker.js";
import type { PipelineSpec } from "../spec/schema.js";
import type { PipelineSet } from "./pipeline-set.js";

/**
 * Which pushes belong to GitOps: pure rules over the loaded pipelines, so the delivery planner
 * can tell a releases-branch push (reconcile, never release) from an app push.
 */

/** Every releases branch the loaded pipelines use; the default always counts, so a pipeline without GitOps never releases it. */
export function releasesBranchesOf(set: PipelineSet): string[] {
  const branches = new Set([DEFAULT_RELEASES_BRANCH]);
  for (const spec of set.specs.values()) {
    if (spec.promotion.gitops !== undefined) branches.add(spec.promotion.gitops.branch);
  }
  return [...branches];
}

/** Where a GitOps spec's records live: its own repository, else the config checkout's origin. */
export function recordsRepositoryOf(spec: PipelineSpec, configOrigin: string | undefined): string | undefined {
  return spec.promotion.gitops?.repository ?? configOrigin;
}

/**
 * One spelling per repository, so `https://github.com/acme/deploy.git`, `git@github.com:acme/deploy`
 * and `https://x-access-token@github.com/Acme/deploy/` compare equal: host and path, lower case,
 * without credentials, port, `.git` or trailing slashes. file:// URLs keep their path.
 */
export function repositoryKey(url: string): string {
  const trimmed = url.trim();
  const scpLike = /^(?:[^@/]+@)?([^:/]+):(?!\/\/)(.+)$/.exec(trimmed);
  let key: string;
  if (scpLike !== null && !/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    key = `${scpLike[1] ?? ""}/${scpLike[2] ?? ""}`;
  } else {
    try {
      const parsed = new URL(trimmed);
      key = parsed.protocol === "file:" ? `file:${decodeURIComponent(parsed.pathname)}` : `${parsed.hostname}${decodeURIComponent(parsed.pathname)}`;
    } catch {
      key = trimmed;
    }
  }
  return key.replace(/\/+$/, "").replace(/\.git$/i, "").replace(/\/+$/, "").toLowerCase();
}

export interface ReleasesPush {
  /** owner/name */
  repository: string;
  cloneUrl: string | undefined;
  branch: string;
  /** Messages of the pushed commits (head last), when the payload had them. */
  messages: string[];
}

export interface GitOpsRoutingContext {
  configOrigin: string | undefined;
  /** owner/name of the config repository (`--config-repository`), when configured. */
  configRepository: string | undefined;
  githubUrl: string;
}

/**
 * The GitOps pipelines whose records a push to a releases branch may have changed: those whose
 * records live in the pushed repository, on the pushed branch. When every pushed commit is one
 * batchship made, only the pipelines those commits name (the echo of a promotion needs no
 * reconcile of every other pipeline); any other commit may have touched any record.
 */
export function pipelinesToReconcile(set: PipelineSet, push: ReleasesPush, context: GitOpsRoutingContext): PipelineSpec[] {
  const pushed = new Set([`${context.githubUrl}/${push.repository}.git`, ...(push.cloneUrl === undefined ? [] : [push.cloneUrl])].map(repositoryKey));
  const isConfigRepository = context.configRepository !== undefined && context.configRepository.toLowerCase() === push.repository.toLowerCase();
  const holdsRecords = (spec: PipelineSpec): boolean => {
    const gitops = spec.promotion.gitops;
    if (gitops === undefined || gitops.branch !== push.branch) return false;
    if (gitops.repository === undefined && isConfigRepository) return true;
    const repository = recordsRepositoryOf(spec, context.configOrigin);
    return repository !== undefined && pushed.has(repositoryKey(repository));
  };
  const candidates = [...set.specs.values()].filter(holdsRecords);
  const allOurs = push.messages.length > 0 && push.messages.every(isBatchshipRecordCommit);
  if (!allOurs) return candidates;
  const named = new Set(push.messages.map(recordPipelineOf));
  return candidates.filter((spec) => named.has(spec.name));
}
