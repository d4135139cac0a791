import { BatchshipError } from "../errors.js";
import type { PipelineSpec } from "../spec/schema.js";
import type { EngineContext } from "./context.js";
import { findOrCreate } from "./find-or-create.js";
import { ledgerOf } from "./gitops/hold.js";
import { rollbackViaLedger } from "./gitops/rollback-via-ledger.js";
import { imageOf } from "./job-definition.js";
import type { JobDefinitionRevision } from "./ports.js";
import { newestRevision, rollbackHistory } from "./revision-lookup.js";
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
export async function rollbackPipeline(ctx: EngineContext, spec: PipelineSpec, options: { by?: string } = {}): Promise<RollbackResult> {
  // GitOps: the rollback is a commit (the previous record, and a hold), and Batch follows it.
  const ledger = ledgerOf(ctx, spec);
  if (ledger !== undefined) return rollbackViaLedger(ctx, ledger, spec, options.by ?? "batchship rollback");
  const name = spec.jobDefinition.name;
  const { platform } = ctx.backend;
  const revisions = await rollbackHistory(platform, name);
  const current = revisions[0];
  if (current === undefined) {
    throw new BatchshipError("NOTHING_TO_ROLL_BACK", `Cannot roll back ${name}: it has no ACTIVE revision`);
  }
  const target = previousLiveRevision(revisions, current);
  if (target === undefined) {
    throw new BatchshipError(
      "NOTHING_TO_ROLL_BACK",
      `Cannot roll back ${name}: no release was promoted before the current one (${name}:${current.revision})`,
    );
  }
  const tags = { ...target.tags, [TAG.rollbackOf]: current.arn };
  let listed: JobDefinitionRevision | undefined = current;
  const { value } = await findOrCreate(
    ctx,
    // A retry after a lost response: the newest revision is already this rollback.
    async () => {
      const newest = listed ?? (await newestRevision(platform, name));
      listed = undefined;
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

/**
 * The revision whose release was live before the current one. Walks the production history
 * newest first; a release that any later revision rolled back is never a target again, so
 * rolling back after a rollback and a new release returns to what ran before that release.
 */
export function previousLiveRevision(
  revisions: readonly JobDefinitionRevision[],
  current: JobDefinitionRevision,
): JobDefinitionRevision | undefined {
  const releaseOf = new Map(revisions.map((r) => [r.arn, r.tags[TAG.release]] as const));
  const rolledBack = new Set<string>();
  const currentRelease = current.tags[TAG.release];
  if (currentRelease !== undefined) rolledBack.add(currentRelease);
  for (const revision of revisions) {
    const undone = releaseOf.get(revision.tags[TAG.rollbackOf] ?? "");
    if (undone !== undefined) rolledBack.add(undone);
    const release = revision.tags[TAG.release];
    if (revision !== current && release !== undefined && !rolledBack.has(release)) return revision;
  }
  return undefined;
}
