import { BatchshipError } from "../errors.js";
import type { PipelineSpec } from "../spec/schema.js";
import type { EngineContext } from "./context.js";
import { findOrCreate } from "./find-or-create.js";
import { imageOf } from "./job-definition.js";
import type { JobDefinitionRevision } from "./ports.js";
import { promotionOf } from "./stages/promote.js";
import { TAG } from "./tags.js";

export interface RollbackResult {
  pipeline: string;
  from: { arn: string; revision: number; image: string; releaseId: string | null };
  to: { arn: string; revision: number; image: string; releaseId: string };
}

/**
 * Rolls forward to the previous promoted release: a new production revision with that release's
 * exact body, tagged batchship:rollback-of. Revisions are never reused, so history stays
 * monotonic; rolling back twice walks further back.
 */
export async function rollbackPipeline(ctx: EngineContext, spec: PipelineSpec): Promise<RollbackResult> {
  const name = spec.jobDefinition.name;
  const { platform } = ctx.backend;
  const revisions = await platform.listJobDefinitionRevisions(name);
  const current = revisions[0];
  if (current === undefined) {
    throw new BatchshipError("NOTHING_TO_ROLL_BACK", `Cannot roll back ${name}: it has no ACTIVE revision`);
  }
  const target = previousPromotion(revisions, current);
  if (target === undefined) {
    throw new BatchshipError(
      "NOTHING_TO_ROLL_BACK",
      `Cannot roll back ${name}: no release was promoted before the current one (${name}:${current.revision})`,
    );
  }
  const tags = { ...target.tags, [TAG.rollbackOf]: current.arn };
  const { value } = await findOrCreate(
    ctx,
    // A retry after a lost response: the newest revision is already this rollback.
    async () => {
      const newest = (await platform.listJobDefinitionRevisions(name))[0];
      return newest?.tags[TAG.rollbackOf] === current.arn ? newest : undefined;
    },
    async (): Promise<JobDefinitionRevision> => ({
      name,
      ...(await platform.registerJobDefinition(name, target.body, tags)),
      body: target.body,
      tags,
    }),
  );
  return {
    pipeline: spec.name,
    from: { arn: current.arn, revision: current.revision, image: imageOf(current), releaseId: current.tags[TAG.release] ?? null },
    to: { arn: value.arn, revision: value.revision, image: imageOf(value), releaseId: target.tags[TAG.release] ?? "" },
  };
}

/** The promotion before the one the current revision runs (current may itself be a rollback). */
function previousPromotion(
  revisions: readonly JobDefinitionRevision[],
  current: JobDefinitionRevision,
): JobDefinitionRevision | undefined {
  const currentRelease = current.tags[TAG.release];
  const currentPromotion = currentRelease === undefined ? current : promotionOf(revisions, currentRelease) ?? current;
  return revisions
    .filter((r) => r.revision < currentPromotion.revision || currentRelease === undefined)
    .find((r) => r.tags[TAG.release] !== undefined && r.tags[TAG.rollbackOf] === undefined && r.tags[TAG.release] !== currentRelease);
}
