import { BatchshipError } from "../../errors.js";
import type { PipelineSpec } from "../../spec/schema.js";
import type { EngineContext } from "../context.js";
import { imageOf } from "../job-definition.js";
import { TAG } from "../tags.js";
import { applyRecord } from "./apply-record.js";
import { holdFor } from "./hold.js";
import type { LedgerEntry, ReleaseLedger } from "./ledger.js";
import { observeCommit } from "./observe-commit.js";
import type { ReleaseRecord } from "./record.js";
import { newestRevision } from "../revision-lookup.js";
import type { RollbackResult } from "../rollback.js";

/** Versions of the record read to find the previous release. */
const HISTORY_DEPTH = 200;

/**
 * GitOps rollback: one commit writes the previous release's record back and holds automatic
 * promotion (otherwise the next canary would roll forward again); production is then registered
 * from that record. Rolling back twice walks further back, as without GitOps.
 */
export async function rollbackViaLedger(
  ctx: EngineContext,
  ledger: ReleaseLedger,
  spec: PipelineSpec,
  by: string,
): Promise<RollbackResult> {
  const name = spec.jobDefinition.name;
  const before = await newestRevision(ctx.backend.platform, name);
  if (before === undefined) {
    // Nothing runs here to roll back: most likely the wrong account or region. A record written
    // now would make production here follow a rollback nobody meant for it.
    throw new BatchshipError("NOTHING_TO_ROLL_BACK", `Cannot roll back ${spec.name}: ${name} has no ACTIVE revision here`, {
      hint: "check AWS_REGION and the account of the credentials: production runs somewhere else, or nothing was promoted yet",
    });
  }
  let from: ReleaseRecord | undefined;
  const { state, commit } = await ledger.update(spec.name, async (tip, view) => {
    const current = tip.record;
    if (current === null) {
      throw new BatchshipError("NOTHING_TO_ROLL_BACK", `Cannot roll back ${spec.name}: the releases branch has no record for it`);
    }
    const target = previousRelease(await view.history(HISTORY_DEPTH), current.releaseId);
    if (target === undefined) {
      throw new BatchshipError(
        "NOTHING_TO_ROLL_BACK",
        `Cannot roll back ${spec.name}: no release was recorded before ${current.releaseId}`,
      );
    }
    from = current;
    const now = ctx.clock.now();
    const record: ReleaseRecord = { ...target.record, promotedBy: by, promotedAt: new Date(now).toISOString(), rollbackOf: current.releaseId };
    return {
      record,
      hold: holdFor(spec.name, `rolled back from ${current.releaseId} to ${target.record.releaseId}`, by, now),
      subject: `Roll back ${spec.name} to ${target.record.releaseId}`,
      body: `From ${current.releaseId} (${current.image.uri})\nTo ${target.record.releaseId} (${target.record.image.uri})\nAutomatic promotion is held until a person promotes or runs \`batchship unhold\`.`,
    };
  });
  observeCommit(ctx, ledger, spec.name, commit, "rolled back");
  if (state.record === null || from === undefined) throw new Error("rollback wrote no record");
  const applied = await applyRecord(ctx, spec, state.record, state.recordCommit);
  return {
    pipeline: spec.name,
    from: {
      arn: before?.arn ?? "",
      revision: before?.revision ?? 0,
      image: before === undefined ? from.image.uri : imageOf(before),
      releaseId: before?.tags[TAG.release] ?? from.releaseId,
    },
    to: { arn: applied.revision.arn, revision: applied.revision.revision, image: imageOf(applied.revision), releaseId: state.record.releaseId },
  };
}

/**
 * The release recorded before the current one first was. Its *first* recording is what
 * counts: a rollback or a `git revert` writes an old record again, and stepping back from that
 * copy must not land on the release it replaced.
 */
export function previousRelease(history: readonly LedgerEntry[], currentRelease: string): LedgerEntry | undefined {
  let first = -1;
  history.forEach((entry, i) => {
    if (entry.record.releaseId === currentRelease) first = i;
  });
  if (first === -1) return undefined;
  return history.slice(first + 1).find((entry) => entry.record.releaseId !== currentRelease);
}
