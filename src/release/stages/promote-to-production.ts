import type { PipelineSpec } from "../../spec/schema.js";
import type { EngineContext } from "../context.js";
import { ledgerOf } from "../gitops/hold.js";
import { promoteViaLedger, type PromotionRequest } from "../gitops/promote-via-ledger.js";
import type { JobDefinitionRevision } from "../ports.js";
import { TAG } from "../tags.js";
import { olderError, promoteCandidate, type CandidatePromotion, type PromotionOrder } from "./promote.js";
import { olderThanProduction } from "./promotion-order.js";
import { newestRevision } from "../revision-lookup.js";

export type { PromotionRequest } from "../gitops/promote-via-ledger.js";

/**
 * Promotion by whichever record the pipeline keeps: with `promotion.gitops`, a commit to the
 * release record and a registration from it; without, a registration tagged in AWS.
 */
export async function promoteToProduction(
  ctx: EngineContext,
  spec: PipelineSpec,
  candidate: JobDefinitionRevision,
  request: PromotionRequest & { order: PromotionOrder },
): Promise<CandidatePromotion> {
  const ledger = ledgerOf(ctx, spec);
  if (ledger === undefined) {
    return promoteCandidate(ctx, spec.jobDefinition.name, candidate, request.order, request.neverPromoted === true ? { neverPromoted: true } : {});
  }
  // GitOps: concurrent record commits are ordered by git itself (the ledger rebases); the order
  // rule is judged against what Batch runs now.
  if (request.order !== "allow-older") {
    const production = await newestRevision(ctx.backend.platform, spec.jobDefinition.name);
    const older = production?.tags[TAG.release] === candidate.tags[TAG.release] ? null : await olderThanProduction(ctx, production, candidate.tags[TAG.commit] ?? "");
    if (older !== null && production !== undefined) {
      if (request.order === "refuse-older") throw olderError(spec.jobDefinition.name, candidate.tags[TAG.release] ?? "", older);
      return { revision: production, reused: false, replaced: null, superseded: older };
    }
  }
  const { revision, reused } = await promoteViaLedger(ctx, ledger, spec, candidate, request);
  return { revision, reused, replaced: null };
}
