import { BatchshipError } from "../../errors.js";
import type { PipelineSpec } from "../../spec/schema.js";
import type { EngineContext } from "../context.js";
import { findOrCreate } from "../find-or-create.js";
import { imageOf, specHash } from "../job-definition.js";
import type { JobDefinitionRevision } from "../ports.js";
import { promotionOf } from "../stages/promote.js";
import { TAG } from "../tags.js";
import { newestRevision } from "../revision-lookup.js";
import { recordBody, type ReleaseRecord } from "./record.js";

/**
 * How a record relates to what Batch ran before:
 * - promotion: its release never reached production; registered as its promotion.
 * - rollback: its release was promoted before the release production runs now (a rollback, a
 *   `git revert`, a pull request going back); automatic promotion gets held.
 * - reapply: its release was promoted before, and is not older than the current one (a revert
 *   of a rollback, a repair after a hand-made registration).
 * Both re-registrations are tagged batchship:rollback-of, so a release keeps exactly one
 * promotion (`promotionOf`) however often it comes back.
 */
export type RecordKind = "promotion" | "rollback" | "reapply";

export interface AppliedRecord {
  /** The production revision that now runs the record. */
  revision: JobDefinitionRevision;
  /** False when production already ran the record: nothing was registered. */
  created: boolean;
  kind: RecordKind;
}

/** Production runs what the record says: same release, same image. */
export function runsRecord(revision: JobDefinitionRevision | undefined, record: ReleaseRecord): boolean {
  return revision !== undefined && revision.tags[TAG.release] === record.releaseId && imageOf(revision) === record.image.uri;
}

export function classifyRecord(revisions: readonly JobDefinitionRevision[], record: ReleaseRecord): RecordKind {
  const earlier = promotionOf(revisions, record.releaseId);
  if (earlier === undefined) return "promotion";
  const currentRelease = revisions.find((r) => r.tags[TAG.release] !== undefined)?.tags[TAG.release];
  const current = currentRelease === undefined ? undefined : promotionOf(revisions, currentRelease);
  return current !== undefined && earlier.revision < current.revision ? "rollback" : "reapply";
}

/**
 * `classifyRecord`, and where Batch has no earlier promotion of the record's release among the
 * revisions read (retention deregistered it, or it is older than the newest), git: a commit
 * production's commit already contains is going back.
 */
async function recordKind(ctx: EngineContext, revisions: readonly JobDefinitionRevision[], record: ReleaseRecord): Promise<RecordKind> {
  const kind = classifyRecord(revisions, record);
  const running = revisions[0]?.tags[TAG.commit];
  if (kind !== "promotion" || running === undefined || running === record.commit) return kind;
  return (await ctx.history?.contains(running, record.commit)) === true ? "rollback" : kind;
}

/**
 * Makes production run a release record: registers the record's body under the production name
 * unless the newest revision already runs it. Idempotent by content, so it is safe to call after
 * every ledger write, on every push to the releases branch, and after a lost response.
 * `beforeRegister` runs only when a registration is about to be made (again, after a retryable
 * failure), so what must hold before production moves is written first.
 */
export async function applyRecord(
  ctx: EngineContext,
  spec: PipelineSpec,
  record: ReleaseRecord,
  recordCommit: string | null,
  beforeRegister?: (kind: RecordKind) => Promise<void>,
): Promise<AppliedRecord> {
  if (record.pipeline !== spec.name) {
    throw new BatchshipError("USAGE", `Cannot apply the release record of ${record.pipeline} to pipeline ${spec.name}`, {
      hint: "promotion.gitops.path must name one file per pipeline (use {pipeline})",
    });
  }
  const name = spec.jobDefinition.name;
  const { platform } = ctx.backend;
  // The newest revisions: production, and the record's release's earlier promotion when it is
  // recent. One older than they reach is judged by git, as one retention deregistered.
  const newest = await platform.newestJobDefinitionRevisions(name);
  const revisions = newest.revisions.length > 0 || newest.complete ? newest.revisions : await platform.listJobDefinitionRevisions(name);
  const kind = await recordKind(ctx, revisions, record);
  const body = recordBody(record);
  const current = revisions[0];
  const tags: Record<string, string> = {
    ...userTags(record.jobDefinition.tags),
    [TAG.pipeline]: record.pipeline,
    [TAG.commit]: record.commit,
    [TAG.release]: record.releaseId,
    [TAG.specHash]: specHash(body),
    [TAG.imageDigest]: record.image.digest,
    ...(record.candidate === null ? {} : { [TAG.candidate]: record.candidate.arn }),
    ...(record.canary === null ? {} : { [TAG.canary]: "passed", [TAG.canaryJob]: record.canary.jobId }),
    ...(recordCommit === null ? {} : { [TAG.recordCommit]: recordCommit }),
    ...(kind !== "promotion" && current !== undefined ? { [TAG.rollbackOf]: current.arn } : {}),
  };
  const { value, created } = await findOrCreate(
    ctx,
    async () => {
      const newest = await newestRevision(platform, name);
      return runsRecord(newest, record) ? newest : undefined;
    },
    async (): Promise<JobDefinitionRevision> => {
      await beforeRegister?.(kind);
      return { name, ...(await platform.registerJobDefinition(name, body, tags)), body, tags };
    },
  );
  return { revision: value, created, kind };
}

/** A hand-edited record cannot set batchship's own tags: they are derived from its fields. */
function userTags(tags: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).filter(([key]) => !key.startsWith("batchship:")));
}
