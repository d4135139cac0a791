import { BatchshipError } from "../../errors.js";
import type { PipelineSpec } from "../../spec/schema.js";
import type { EngineContext } from "../context.js";
import type { ReleaseLedger } from "./ledger.js";
import { observeCommit } from "./observe-commit.js";
import type { PromotionHold } from "./record.js";

/**
 * The ledger of a GitOps pipeline, or undefined for one without `promotion.gitops`. A GitOps
 * pipeline run without a ledger is refused: promoting it outside git would be exactly the
 * drift GitOps exists to prevent.
 */
export function ledgerOf(ctx: EngineContext, spec: PipelineSpec): ReleaseLedger | undefined {
  if (spec.promotion.gitops === undefined) return undefined;
  if (ctx.ledger === undefined) {
    throw new BatchshipError("ENVIRONMENT", `Cannot promote ${spec.name}: it uses promotion.gitops and no release ledger was configured`, {
      hint: "run it through the batchship CLI or service, which open the ledger from promotion.gitops",
    });
  }
  return ctx.ledger;
}

export function requireLedger(ctx: EngineContext, spec: PipelineSpec, command: string): ReleaseLedger {
  const ledger = ledgerOf(ctx, spec);
  if (ledger === undefined) {
    throw new BatchshipError("USAGE", `Cannot ${command} ${spec.name}: the pipeline has no promotion.gitops`, {
      hint: "add promotion.gitops to the pipeline spec (docs/gitops.md)",
    });
  }
  return ledger;
}

/** The hold on automatic promotion, or null (always null without GitOps). */
export async function promotionHold(ctx: EngineContext, spec: PipelineSpec): Promise<PromotionHold | null> {
  const ledger = ledgerOf(ctx, spec);
  return ledger === undefined ? null : (await ledger.read(spec.name)).hold;
}

export function holdFor(pipeline: string, reason: string, by: string, nowMs: number): PromotionHold {
  return { apiVersion: "batchship/v1", kind: "PromotionHold", pipeline, reason, by, at: new Date(nowMs).toISOString() };
}

export function heldError(pipeline: string, hold: PromotionHold): BatchshipError {
  return new BatchshipError("NOT_PROMOTABLE", `Cannot promote ${pipeline} automatically: held since ${hold.at} (${hold.reason})`, {
    hint: `a person promotes with \`batchship promote\`, or lifts the hold with \`batchship unhold\``,
  });
}

export interface UnholdResult {
  pipeline: string;
  /** The hold that was lifted, or null when there was none. */
  lifted: PromotionHold | null;
  commit: string | null;
}

/** `batchship unhold`: automatic promotion resumes with the next release. */
export async function unholdPipeline(ctx: EngineContext, spec: PipelineSpec, by: string): Promise<UnholdResult> {
  const ledger = requireLedger(ctx, spec, "unhold");
  let lifted: PromotionHold | null = null;
  const { commit } = await ledger.update(spec.name, async (tip) => {
    lifted = tip.hold;
    return tip.hold === null ? null : { hold: null, subject: `Lift the hold on ${spec.name}`, body: `Lifted by ${by}; was: ${tip.hold.reason}` };
  });
  observeCommit(ctx, ledger, spec.name, commit, "lifted the hold");
  return { pipeline: spec.name, lifted, commit };
}
