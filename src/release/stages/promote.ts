import { BatchshipError } from "../../errors.js";
import type { EngineContext } from "../context.js";
import { findOrCreate } from "../find-or-create.js";
import type { JobDefinitionRevision } from "../ports.js";
import { TAG } from "../tags.js";

/** The production revision a release was promoted to, if it ever was. Rollbacks don't count. */
export function promotionOf(
  revisions: readonly JobDefinitionRevision[],
  releaseId: string,
): JobDefinitionRevision | undefined {
  return revisions.find((r) => r.tags[TAG.release] === releaseId && r.tags[TAG.rollbackOf] === undefined);
}

/**
 * Stage promote: the production name gets a revision with the candidate's exact body and tags.
 * Registering under the production name *is* the release (a job submitted by name runs the
 * newest ACTIVE revision), so it happens only for a candidate whose canary passed, and at most
 * once per release.
 */
export async function promoteCandidate(
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
    async () => promotionOf(await platform.listJobDefinitionRevisions(productionName), releaseId),
    async (): Promise<JobDefinitionRevision> => {
      const registered = await platform.registerJobDefinition(productionName, candidate.body, tags);
      return { name: productionName, ...registered, body: candidate.body, tags };
    },
  );
  return { revision: value, reused: !created };
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
