import type { PipelineSpec } from "../../spec/schema.js";
import type { EngineContext } from "../context.js";
import { imageOf } from "../job-definition.js";
import { applyRecord, type RecordKind } from "./apply-record.js";
import { holdFor, requireLedger } from "./hold.js";
import { observeCommit } from "./observe-commit.js";
import type { PromotionHold } from "./record.js";

export interface ReconcileResult {
  pipeline: string;
  /** What git says production runs; null when the releases branch has no record. */
  record: { releaseId: string; image: string; recordCommit: string | null } | null;
  /** registered: Batch did not match git and now does; in-sync: nothing to do. */
  action: "registered" | "in-sync" | "no-record";
  /** What the registration was (null when nothing was registered). */
  kind: RecordKind | null;
  production: { arn: string; revision: number; image: string } | null;
  hold: PromotionHold | null;
}

/**
 * `batchship reconcile` (and the service, on a push to the releases branch): make Batch match
 * git. A record going back to an earlier release — `git revert` of a promotion, a pull request —
 * is a rollback like `batchship rollback`, so automatic promotion gets held.
 */
export async function reconcilePipeline(ctx: EngineContext, spec: PipelineSpec, by = "batchship reconcile"): Promise<ReconcileResult> {
  const ledger = requireLedger(ctx, spec, "reconcile");
  const state = await ledger.read(spec.name);
  const { record } = state;
  if (record === null) {
    return { pipeline: spec.name, record: null, action: "no-record", kind: null, production: null, hold: state.hold };
  }
  // The hold is committed before production goes back, not after: a reconcile stopped in between
  // (a crash, a failed push, its bookkeeping) and run again finds production already running the
  // record and registers nothing, so a hold left for after the registration would never be set,
  // and the next passing canary would move production forward again over the rollback.
  let hold = state.hold;
  const applied = await applyRecord(ctx, spec, record, state.recordCommit, async (kind) => {
    if (kind !== "rollback" || hold !== null) return;
    const set = holdFor(spec.name, `production went back to ${record.releaseId} (${state.recordCommit?.slice(0, 12) ?? "record"})`, by, ctx.clock.now());
    const { state: after, commit } = await ledger.update(spec.name, async (tip) =>
      // Only while the record still names what is being applied, and nobody has held it meanwhile.
      tip.hold !== null || tip.record?.releaseId !== record.releaseId
        ? null
        : { hold: set, subject: `Hold ${spec.name} after going back to ${record.releaseId}` },
    );
    observeCommit(ctx, ledger, spec.name, commit, "held automatic promotion");
    hold = after.hold;
  });
  const { revision } = applied;
  return {
    pipeline: spec.name,
    record: { releaseId: record.releaseId, image: record.image.uri, recordCommit: state.recordCommit },
    action: applied.created ? "registered" : "in-sync",
    kind: applied.created ? applied.kind : null,
    production: { arn: revision.arn, revision: revision.revision, image: imageOf(revision) },
    hold,
  };
}
