import { BatchshipError } from "../errors.js";
import type { PipelineSpec } from "../spec/schema.js";
import { renderTags } from "../spec/templates.js";
import type { EngineContext } from "./context.js";
import { releaseIdFor } from "./release-id.js";
import { TAG } from "./tags.js";
import { ledgerOf } from "./gitops/hold.js";
import { findCandidate } from "./stages/candidate.js";
import { promoteToProduction } from "./stages/promote-to-production.js";
import { rollForward, wasRolledBack } from "./stages/roll-forward.js";
import type { CandidatePromotion } from "./stages/promote.js";
import type { JobDefinitionRevision } from "./ports.js";
import { olderThanProduction, type Supersession } from "./stages/promotion-order.js";

export interface PromoteResult {
  releaseId: string;
  pipeline: string;
  commit: string;
  image: { uri: string; digest: string };
  candidate: { arn: string; revision: number };
  production: { arn: string; revision: number };
  /** True when this release had already been promoted: nothing new was registered. */
  alreadyPromoted: boolean;
  /** The production revision this promotion registered over; null for the first one, or when nothing was registered. */
  replaced: { arn: string; revision: number; releaseId: string | null; commit: string | null } | null;
  /** Production runs a newer commit instead: one promoted at the same time, which contains this one. */
  supersededBy?: Supersession;
}

/**
 * `batchship promote`: the manual gate. Everything is found again from AWS — the image by its
 * commit tag, the candidate by its release and spec hash, the canary verdict in the candidate's tags — so it
 * works from any machine, any time after the release ran.
 */
export async function promoteRelease(
  ctx: EngineContext,
  spec: PipelineSpec,
  commit: string,
  /** `allowOlder`: take production back to a commit it already contains, on purpose. */
  options: { by?: string; allowOlder?: boolean } = {},
): Promise<PromoteResult> {
  const releaseId = releaseIdFor(spec.name, commit);
  const { registry } = ctx.backend;
  const repository = await registry.ensureRepository(spec.image.repository);
  const [shaTag] = renderTags(spec.image.tags.slice(0, 1), { sha: commit, branch: "" });
  const digest = shaTag === undefined ? undefined : await registry.findDigest(repository, shaTag);
  const notReleased = (what: string) =>
    new BatchshipError("NOT_PROMOTABLE", `Cannot promote ${spec.name} at ${commit.slice(0, 12)}: ${what}`, {
      hint: `run \`batchship release --pipeline <file> --commit ${commit}\` first`,
    });
  if (digest === undefined) throw notReleased(`no image tagged ${shaTag} in ${repository.uri}`);

  const uri = `${repository.uri}@${digest}`;
  const candidate = await findCandidate(ctx, spec, uri, releaseId);
  if (candidate === undefined) throw notReleased("no candidate job definition for its image");

  // A person's promotion: with GitOps it is recorded under their name and lifts a hold. Without
  // GitOps, a release production was rolled back from is rolled forward to again: a person's
  // explicit choice to undo the rollback, so the settling of racing promoters does not apply.
  // Going back to a commit production's commit contains is not forward: that needs --allow-older.
  // Told from the newest production revisions: a release rolled back further back than those is
  // promoted like any older one.
  const production = ledgerOf(ctx, spec) === undefined ? (await ctx.backend.platform.newestJobDefinitionRevisions(spec.jobDefinition.name)).revisions : [];
  const forward =
    production[0] !== undefined &&
    production[0].tags[TAG.release] !== releaseId &&
    wasRolledBack(production, releaseId) &&
    (options.allowOlder === true || (await olderThanProduction(ctx, production[0], commit)) === null);
  const outcome: CandidatePromotion = forward
    ? { ...(await rollForward(ctx, spec.jobDefinition.name, candidate)), replaced: replacedBy(production[0]) }
    : await promoteToProduction(ctx, spec, candidate, {
        by: options.by ?? "batchship promote",
        person: true,
        order: options.allowOlder === true ? "allow-older" : "refuse-older",
      });
  const { revision, reused } = outcome;
  if (outcome.superseded === undefined) ctx.observe({ type: "promoted", arn: revision.arn, revision: revision.revision, reused });
  else ctx.observe({ type: "superseded", by: outcome.superseded.commit, reason: outcome.superseded.reason });
  return {
    releaseId,
    pipeline: spec.name,
    commit,
    image: { uri, digest },
    candidate: { arn: candidate.arn, revision: candidate.revision },
    production: { arn: revision.arn, revision: revision.revision },
    alreadyPromoted: reused,
    replaced: outcome.replaced,
    ...(outcome.superseded === undefined ? {} : { supersededBy: outcome.superseded }),
  };
}

function replacedBy(revision: JobDefinitionRevision | undefined): PromoteResult["replaced"] {
  if (revision === undefined) return null;
  return { arn: revision.arn, revision: revision.revision, releaseId: revision.tags[TAG.release] ?? null, commit: revision.tags[TAG.commit] ?? null };
}
