import type { ReleaseRecord } from "./gitops/record.js";
import { runsRecord } from "./gitops/apply-record.js";
import type { JobDefinitionRevision } from "./ports.js";
import { previousLiveRevision } from "./rollback.js";
import { promotionOf } from "./stages/promote.js";
import { ANCHOR_REVISION, CANARY_RETRYING, TAG } from "./tags.js";

/** Why a revision outside the newest N/M stays ACTIVE. */
export type KeepReason =
  | "newest"
  | "production"
  | "rollback-target"
  | "rolled-back-by-kept"
  | "promotion-of-production"
  | "gitops-record"
  | "production-candidate"
  | "awaiting-promotion"
  | "in-flight"
  /** A candidate name's revision ANCHOR_REVISION: the AWS backend keeps a hint of the newest revision there. */
  | "anchor";

export interface KeptRevision {
  arn: string;
  revision: number;
  reasons: KeepReason[];
}

export interface RetentionPlan {
  keep: KeptRevision[];
  /** Oldest first: the order they are deregistered in. */
  deregister: JobDefinitionRevision[];
}

/**
 * Production revisions to keep: the newest `keep`, production itself, its rollback target, the
 * first promotion of the release it runs (how a re-run of that release knows it is promoted),
 * the revision a GitOps record names, and every revision a kept rollback names. The last rule
 * keeps `previousLiveRevision` exact on what remains: a rollback's `rollback-of` must resolve,
 * or the release it undid would look live again.
 */
export function planProduction(
  revisions: readonly JobDefinitionRevision[],
  keep: number,
  record: ReleaseRecord | null,
): RetentionPlan {
  const reasons = new Map<string, Set<KeepReason>>();
  const mark = (revision: JobDefinitionRevision | undefined, reason: KeepReason) => {
    if (revision === undefined) return;
    const set = reasons.get(revision.arn) ?? new Set<KeepReason>();
    set.add(reason);
    reasons.set(revision.arn, set);
  };
  const newestFirst = [...revisions].sort((a, b) => b.revision - a.revision);
  const current = newestFirst[0];
  newestFirst.slice(0, keep).forEach((r) => mark(r, "newest"));
  if (current !== undefined) {
    mark(current, "production");
    mark(previousLiveRevision(newestFirst, current), "rollback-target");
    const release = current.tags[TAG.release];
    if (release !== undefined) mark(promotionOf(newestFirst, release), "promotion-of-production");
  }
  if (record !== null) mark(newestFirst.find((r) => runsRecord(r, record)), "gitops-record");
  // Newest first: a kept rollback marks what it names, which is older, before the walk gets there.
  const byArn = new Map(newestFirst.map((r) => [r.arn, r] as const));
  for (const revision of newestFirst) {
    const undone = revision.tags[TAG.rollbackOf];
    if (reasons.has(revision.arn) && undone !== undefined) mark(byArn.get(undone), "rolled-back-by-kept");
  }
  return planFrom(newestFirst, reasons);
}

/**
 * Candidate revisions to keep: the newest `keep`, the one production was promoted from, and
 * every candidate newer than that one whose release is not over — canary passed and awaiting
 * promotion, or no verdict yet (a release that may be running right now, a first attempt or an
 * explicit retry's).
 */
export function planCandidates(
  candidates: readonly JobDefinitionRevision[],
  production: readonly JobDefinitionRevision[],
  keep: number,
): RetentionPlan {
  const reasons = new Map<string, Set<KeepReason>>();
  const mark = (arn: string, reason: KeepReason) => reasons.set(arn, (reasons.get(arn) ?? new Set<KeepReason>()).add(reason));
  const newestFirst = [...candidates].sort((a, b) => b.revision - a.revision);
  newestFirst.slice(0, keep).forEach((r) => mark(r.arn, "newest"));
  // The anchor holds the hint that keeps a lookup of the name at one or two calls; deregistered,
  // Batch would delete it 180 days later. Only candidates: a production anchor kept ACTIVE would
  // become a rollback target once retention took what lies between (architecture.md).
  const anchor = newestFirst.find((r) => r.revision === ANCHOR_REVISION);
  if (anchor !== undefined) mark(anchor.arn, "anchor");
  const live = production.reduce<JobDefinitionRevision | undefined>((n, r) => (n === undefined || r.revision > n.revision ? r : n), undefined);
  const liveCandidate = live?.tags[TAG.candidate];
  if (liveCandidate !== undefined && newestFirst.some((c) => c.arn === liveCandidate)) mark(liveCandidate, "production-candidate");
  const liveRevision = newestFirst.find((c) => c.arn === liveCandidate)?.revision ?? 0;
  for (const candidate of newestFirst) {
    if (candidate.revision <= liveRevision) continue;
    const verdict = candidate.tags[TAG.canary];
    const release = candidate.tags[TAG.release];
    const promoted = release !== undefined && promotionOf(production, release) !== undefined;
    if (verdict === undefined || verdict === CANARY_RETRYING) mark(candidate.arn, "in-flight");
    else if (verdict === "passed" && !promoted) mark(candidate.arn, "awaiting-promotion");
  }
  return planFrom(newestFirst, reasons);
}

function planFrom(newestFirst: readonly JobDefinitionRevision[], reasons: ReadonlyMap<string, Set<KeepReason>>): RetentionPlan {
  return {
    keep: newestFirst
      .filter((r) => reasons.has(r.arn))
      .map((r) => ({ arn: r.arn, revision: r.revision, reasons: [...(reasons.get(r.arn) ?? [])] })),
    deregister: newestFirst.filter((r) => !reasons.has(r.arn)).reverse(),
  };
}
