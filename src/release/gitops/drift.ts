import { imageOf } from "../job-definition.js";
import type { JobDefinitionRevision } from "../ports.js";
import { TAG } from "../tags.js";
import { runsRecord } from "./apply-record.js";
import type { LedgerState } from "./ledger.js";

/** Production in Batch that git does not explain, with both sides. */
export interface Drift {
  batch: { arn: string; revision: number; image: string; releaseId: string | null };
  git: { releaseId: string; image: string; recordCommit: string | null } | null;
  reason: string;
}

export function driftBetween(newest: JobDefinitionRevision | undefined, state: LedgerState): Drift | null {
  const { record } = state;
  if (newest === undefined || (record !== null && runsRecord(newest, record))) return null;
  const releaseId = newest.tags[TAG.release] ?? null;
  const batch = { arn: newest.arn, revision: newest.revision, image: imageOf(newest), releaseId };
  if (record === null) return { batch, git: null, reason: "the releases branch has no record for this pipeline" };
  const git = { releaseId: record.releaseId, image: record.image.uri, recordCommit: state.recordCommit };
  const reason =
    releaseId === null
      ? "the production revision was registered outside batchship (no batchship:release tag)"
      : `Batch runs ${releaseId}, git records ${record.releaseId}`;
  return { batch, git, reason };
}
