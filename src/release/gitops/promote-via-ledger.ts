import { BatchshipError } from "../../errors.js";
import type { PipelineSpec } from "../../spec/schema.js";
import type { EngineContext } from "../context.js";
import { imageOf, specHash } from "../job-definition.js";
import type { JobDefinitionRevision } from "../ports.js";
import { assertPromotable, isPromotionOf } from "../stages/promote.js";
import { findRevision } from "../revision-lookup.js";
import { TAG } from "../tags.js";
import { applyRecord } from "./apply-record.js";
import { heldError } from "./hold.js";
import { observeCommit } from "./observe-commit.js";
import type { LedgerChange, ReleaseLedger } from "./ledger.js";
import { recordBody, ReleaseRecord } from "./record.js";

/** Who promotes, and how: a person's promotion overrides (and clears) a hold; automation obeys it. */
export interface PromotionRequest {
  /** Who or what promoted, for the record: "batchship (automatic)", "alice". */
  by: string;
  person: boolean;
  /** The canary's final counts, when the caller has them (else they are read from the job). */
  canary?: { jobId: string; summary: Readonly<Record<string, number>> };
  /**
   * The candidate was registered by this very run, so its release was never promoted: whether
   * it was is answered from the newest production revisions alone.
   */
  neverPromoted?: boolean;
}

export interface LedgerPromotion {
  revision: JobDefinitionRevision;
  reused: boolean;
  /** The ledger commit of the record production now runs; null when nothing was recorded. */
  recordCommit: string | null;
}

/**
 * GitOps promotion: the release record is committed and pushed first, and the production revision
 * is then registered *from that record* — git says what runs, Batch follows. Exactly once: a
 * record that already names the release is not written again, a release promoted or recorded
 * before is never re-recorded automatically (a late or repeated run must not roll production
 * back), and registration is idempotent by content.
 */
export async function promoteViaLedger(
  ctx: EngineContext,
  ledger: ReleaseLedger,
  spec: PipelineSpec,
  candidate: JobDefinitionRevision,
  request: PromotionRequest,
): Promise<LedgerPromotion> {
  assertPromotable(candidate);
  const releaseId = candidate.tags[TAG.release] ?? "";
  const { found: earlier } = await findRevision(ctx.backend.platform, spec.jobDefinition.name, isPromotionOf(releaseId), request.neverPromoted !== true);
  const record = await recordFor(ctx, spec, candidate, request);

  const { state, commit } = await ledger.update(spec.name, async (tip, view): Promise<LedgerChange | null> => {
    if (tip.record?.releaseId === releaseId) {
      if (!request.person || tip.hold === null) return null;
      return { hold: null, subject: `Lift the hold on ${spec.name}: ${request.by} promoted ${releaseId}` };
    }
    if (!request.person) {
      if (tip.hold !== null) throw heldError(spec.name, tip.hold);
      if (earlier !== undefined || (await view.everRecorded(releaseId))) return null;
    }
    return {
      record,
      ...(request.person ? { hold: null } : {}),
      subject: `Promote ${spec.name} to ${releaseId}`,
      body: [
        `Image ${record.image.uri}`,
        `Candidate ${record.candidate?.arn ?? "-"}`,
        `Canary ${record.canary?.jobId ?? "-"}`,
        `Promoted by ${record.promotedBy}`,
        ...(tip.record !== null && sameJob(tip.record, record) ? [unchangedNote(tip.record)] : []),
      ].join("\n"),
    };
  });
  observeCommit(ctx, ledger, spec.name, commit, `promoted ${releaseId}`);

  if (state.record?.releaseId !== releaseId) {
    // Promoted long ago and replaced since: production follows the newer record, not this run.
    if (earlier !== undefined) return { revision: earlier, reused: true, recordCommit: null };
    throw new BatchshipError("NOT_PROMOTABLE", `Cannot promote ${releaseId}: it was recorded before and a newer record replaced it`, {
      hint: "a person promotes it again with `batchship promote`, or edits the release record",
    });
  }
  const applied = await applyRecord(ctx, spec, state.record, state.recordCommit);
  return { revision: applied.revision, reused: !applied.created, recordCommit: state.recordCommit };
}

/**
 * A release whose image and job definition equal production's (a documentation-only commit) is
 * still recorded, since production names the newest released commit; the commit says that the
 * job itself did not change, so a reader of the history need not diff the records.
 */
function sameJob(production: ReleaseRecord, next: ReleaseRecord): boolean {
  return (
    production.image.digest === next.image.digest &&
    specHash(recordBody(production)) === specHash(recordBody(next)) &&
    sortedJson(production.jobDefinition.tags) === sortedJson(next.jobDefinition.tags)
  );
}

function sortedJson(tags: Record<string, string>): string {
  return JSON.stringify(Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function unchangedNote(production: ReleaseRecord): string {
  return `Same image and job definition as ${production.releaseId} (commit ${production.commit}): the job runs unchanged`;
}

async function recordFor(
  ctx: EngineContext,
  spec: PipelineSpec,
  candidate: JobDefinitionRevision,
  request: PromotionRequest,
): Promise<ReleaseRecord> {
  const jobId = request.canary?.jobId ?? candidate.tags[TAG.canaryJob];
  const summary =
    request.canary?.summary ?? (jobId === undefined ? undefined : (await ctx.backend.platform.describeJob(jobId))?.childCounts);
  const image = imageOf(candidate);
  return ReleaseRecord.parse({
    apiVersion: "batchship/v1",
    kind: "ReleaseRecord",
    pipeline: spec.name,
    releaseId: candidate.tags[TAG.release],
    commit: candidate.tags[TAG.commit],
    image: { uri: image, digest: candidate.tags[TAG.imageDigest] ?? image.slice(image.indexOf("@") + 1) },
    candidate: { arn: candidate.arn, revision: candidate.revision },
    canary: jobId === undefined ? null : { jobId, summary: summary ?? {} },
    jobDefinition: {
      name: spec.jobDefinition.name,
      body: candidate.body,
      tags: Object.fromEntries(Object.entries(candidate.tags).filter(([k]) => !k.startsWith("batchship:"))),
    },
    promotedBy: request.by,
    promotedAt: new Date(ctx.clock.now()).toISOString(),
    rollbackOf: null,
  });
}
