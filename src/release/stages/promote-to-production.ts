import type { PipelineSpec } from "../../spec/schema.js";
import type { EngineContext } from "../context.js";
import { ledgerOf } from "../gitops/hold.js";
import { promoteViaLedger, type PromotionRequest } from "../gitops/promote-via-ledger.js";
import type { JobDefinitionRevision } from "../ports.js";
import { promoteCandidate } from "./promote.js";

export type { PromotionRequest } from "../gitops/promote-via-ledger.js";

/**
 * Promotion by whichever record the pipeline keeps: with `promotion.gitops`, a commit to the
 * release record and a registration from it; without, a registration tagged in AWS.
 */
export async function promoteToProduction(
  ctx: EngineContext,
  spec: PipelineSpec,
  candidate: JobDefinitionRevision,
  request: PromotionRequest,
): Promise<{ revision: JobDefinitionRevision; reused: boolean }> {
  const ledger = ledgerOf(ctx, spec);
  if (ledger === undefined) return promoteCandidate(ctx, spec.jobDefinition.name, candidate);
  return promoteViaLedger(ctx, ledger, spec, candidate, request);
}
