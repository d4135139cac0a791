import { BatchshipError } from "../../errors.js";
import type { EngineContext } from "../context.js";
import { findOrCreate } from "../find-or-create.js";
import type { JobDefinitionRevision } from "../ports.js";
import { findRevision, newestRevision } from "../revision-lookup.js";
import { TAG } from "../tags.js";
import { olderThanProduction, settleConcurrentPromotions, type Supersession } from "./promotion-order.js";

/** The production revision a release was promoted to, if it ever was. Rollbacks don't count. */
export function promotionOf(
  revisions: readonly JobDefinitionRevision[],
  releaseId: string,
): JobDefinitionRevision | undefined {
  return revisions.find(isPromotionOf(releaseId));
}

/** A production revision that promoted this release (a rollback to it does not count). */
export function isPromotionOf(releaseId: string): (revision: JobDefinitionRevision) => boolean {
  return (r) => r.tags[TAG.release] === releaseId && r.tags[TAG.rollbackOf] === undefined;
}

/**
 * `newer-only`: automation never takes production back to a commit it already contains.
 * `refuse-older`: a person must say so (`--allow-older`). `allow-older`: a person said so.
 */
export type PromotionOrder = "newer-only" | "refuse-older" | "allow-older";

export interface CandidatePromotion {
  /** What production runs after this promotion: this release's revision, or what replaced it. */
  revision: JobDefinitionRevision;
  reused: boolean;
  /** The production revision this promotion registered over (null: the first, or nothing registered). */
  replaced: { arn: string; revision: number; releaseId: string | null; commit: string | null } | null;
  /** Set when production does not run this release: a newer commit wins. */
  superseded?: Supersession;
}

/**
 * Stage promote: the production name gets a revision with the candidate's exact body and tags.
 * Registering under the production name *is* the release (a job submitted by name runs the
 * newest ACTIVE revision), so it happens only for a candidate whose canary passed, and at most
 * once per release. The order rules (promotion-order.ts) are judged on the same listing the
 * registration is tagged with, so a promotion racing this one is always in the settled window.
 * Both are read from the newest production revisions; whether the release was promoted before
 * is looked for further back only when it may have been (`neverPromoted` unset).
 */
export async function promoteCandidate(
  ctx: EngineContext,
  productionName: string,
  candidate: JobDefinitionRevision,
  order: PromotionOrder = "newer-only",
  options: { neverPromoted?: boolean } = {},
): Promise<CandidatePromotion> {
  assertPromotable(candidate);
  const releaseId = candidate.tags[TAG.release] ?? "";
  const commit = candidate.tags[TAG.commit] ?? "";
  const { platform } = ctx.backend;
  // Production as the find step saw it: the judgement and the `replaces` tag go by it.
  let current: JobDefinitionRevision | undefined;
  // Filled in by the create step, when it runs.
  const seen: { replaced: CandidatePromotion["replaced"]; refused?: { production: JobDefinitionRevision; superseded: Supersession } } = { replaced: null };
  const { value, created } = await findOrCreate(
    ctx,
    async () => {
      const { found, newest } = await findRevision(platform, productionName, isPromotionOf(releaseId), options.neverPromoted !== true);
      current = newest.revisions[0] ?? (newest.complete ? undefined : await newestRevision(platform, productionName));
      // A person taking production back to a release it ran before: done once it runs it again.
      if (order === "allow-older" && found !== undefined && current?.tags[TAG.release] !== releaseId) return undefined;
      return found;
    },
    async (): Promise<JobDefinitionRevision | undefined> => {
      const older = order === "allow-older" ? null : await olderThanProduction(ctx, current, commit);
      if (older !== null && current !== undefined) {
        if (order === "refuse-older") throw olderError(productionName, releaseId, older);
        seen.refused = { production: current, superseded: older };
        return undefined;
      }
      seen.replaced = current === undefined ? null : { arn: current.arn, revision: current.revision, releaseId: current.tags[TAG.release] ?? null, commit: current.tags[TAG.commit] ?? null };
      const tags = { ...candidate.tags, [TAG.candidate]: candidate.arn, [TAG.replaces]: String(current?.revision ?? 0) };
      const registered = await platform.registerJobDefinition(productionName, candidate.body, tags);
      return { name: productionName, ...registered, body: candidate.body, tags };
    },
  );
  const { replaced, refused } = seen;
  if (refused !== undefined) return { revision: refused.production, reused: false, replaced: null, superseded: refused.superseded };
  const mine = value as JobDefinitionRevision;
  // A person who chose an older commit on purpose is not overruled by a concurrent newer one.
  const settled = order === "allow-older" ? null : await settleConcurrentPromotions(ctx, productionName, mine);
  if (settled !== null) return { revision: settled.restored, reused: !created, replaced, superseded: settled.over };
  // Promoted before, and production moved on since: that earlier promotion is history, and a
  // release production's commit already contains is older whether or not retention kept it.
  if (!created && current !== undefined && current.arn !== mine.arn && order !== "allow-older") {
    const older = await olderThanProduction(ctx, current, commit);
    if (older !== null) {
      if (order === "refuse-older") throw olderError(productionName, releaseId, older);
      return { revision: current, reused: false, replaced: null, superseded: older };
    }
  }
  return { revision: mine, reused: !created, replaced };
}

export function olderError(productionName: string, releaseId: string, older: Supersession): BatchshipError {
  return new BatchshipError("NOT_PROMOTABLE", `Cannot promote ${releaseId} to ${productionName}: it is older than production; ${older.reason}`, {
    hint: "pass --allow-older (API: allowOlder, Action: allow-older) to take production back to it on purpose, or use `batchship rollback`",
  });
}

/** Only a candidate whose canary passed may reach production, by any path. */
export function assertPromotable(candidate: JobDefinitionRevision): void {
  if (candidate.tags[TAG.canary] !== "passed") {
    throw new BatchshipError(
      "NOT_PROMOTABLE",
      `Cannot promote ${candidate.name}:${candidate.revision}: its canary ${candidate.tags[TAG.canary] ?? "has not finished"}`,
      { hint: "only a candidate whose canary passed can be promoted; run `batchship release` for the commit" },
    );
  }
}
