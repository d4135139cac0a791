import type { EngineContext } from "../context.js";
import { findOrCreate } from "../find-or-create.js";
import type { JobDefinitionRevision } from "../ports.js";
import { newestRevision } from "../revision-lookup.js";
import { TAG } from "../tags.js";
import { assertPromotable } from "./promote.js";

/** True when some production revision rolled back from a revision of this release. */
export function wasRolledBack(revisions: readonly JobDefinitionRevision[], releaseId: string): boolean {
  const ofRelease = new Set(revisions.filter((r) => r.tags[TAG.release] === releaseId).map((r) => r.arn));
  return revisions.some((r) => ofRelease.has(r.tags[TAG.rollbackOf] ?? ""));
}

/**
 * A person promotes a release production was rolled back from: production moves forward to it
 * again, as a new revision with the candidate's body and tags (revisions are never reused). Once
 * production's newest revision is this release, promoting it again registers nothing.
 */
export async function rollForward(
  ctx: EngineContext,
  productionName: string,
  candidate: JobDefinitionRevision,
): Promise<{ revision: JobDefinitionRevision; reused: boolean }> {
  assertPromotable(candidate);
  const releaseId = candidate.tags[TAG.release] ?? "";
  const { platform } = ctx.backend;
  const tags = { ...candidate.tags, [TAG.candidate]: candidate.arn };
  const { value, created } = await findOrCreate(
    ctx,
    async () => {
      const newest = await newestRevision(platform, productionName);
      return newest?.tags[TAG.release] === releaseId ? newest : undefined;
    },
    async (): Promise<JobDefinitionRevision> => ({
      name: productionName,
      ...(await platform.registerJobDefinition(productionName, candidate.body, tags)),
      body: candidate.body,
      tags,
    }),
  );
  return { revision: value, reused: !created };
}
