import type { PipelineSpec } from "../spec/schema.js";
import type { EngineContext } from "./context.js";
import { driftBetween, type Drift } from "./gitops/drift.js";
import { ledgerOf } from "./gitops/hold.js";
import type { PromotionHold } from "./gitops/record.js";
import { candidateName, imageOf } from "./job-definition.js";
import type { JobDefinitionRevision } from "./ports.js";
import { promotionOf } from "./stages/promote.js";
import { TAG } from "./tags.js";

export interface RevisionSummary {
  arn: string;
  revision: number;
  image: string;
  commit: string | null;
  releaseId: string | null;
  canary: string | null;
  rollbackOf: string | null;
}

export interface PipelineStatus {
  pipeline: string;
  production: RevisionSummary | null;
  /** Newest candidates first. */
  candidates: (RevisionSummary & { promoted: boolean })[];
  /** Candidates newer than production's whose canary passed and that were never promoted, newest first. */
  awaitingPromotion: RevisionSummary[];
  /** GitOps: the release record and hold at the tip of the releases branch. */
  ledger?: {
    repository: string;
    branch: string;
    path: string;
    holdPath: string;
    record: { releaseId: string; image: string; commit: string; recordCommit: string | null; promotedBy: string; promotedAt: string } | null;
    hold: PromotionHold | null;
  };
  /** GitOps: the production revision git does not explain, with both sides; null when they agree. */
  drift: Drift | null;
}

const CANDIDATES_SHOWN = 5;

/**
 * `batchship status`: read entirely from job definition tags, so it works from anywhere. It reads
 * the newest revisions of each name (`newestJobDefinitionRevisions`), so its cost does not grow with the
 * history: a candidate counts as promoted when its promotion is among production's newest.
 */
export async function pipelineStatus(ctx: EngineContext, spec: PipelineSpec): Promise<PipelineStatus> {
  const { platform } = ctx.backend;
  const newestOf = async (name: string, upcoming?: string) => {
    const newest = await platform.newestJobDefinitionRevisions(name, upcoming === undefined ? {} : { upcoming });
    // Every revision in the window deregistered: only the whole history can say what is ACTIVE.
    return newest.revisions.length > 0 || newest.complete ? newest.revisions : platform.listJobDefinitionRevisions(name);
  };
  // One after the other, candidates first: in a process new to both names (a CLI or Action run),
  // production's hint rides in the candidates' first call, which saves production a call.
  const candidates = await newestOf(candidateName(spec), spec.jobDefinition.name);
  const production = await newestOf(spec.jobDefinition.name);
  const withPromotion = candidates.map((c) => {
    const releaseId = c.tags[TAG.release];
    return { ...summarize(c), promoted: releaseId !== undefined && promotionOf(production, releaseId) !== undefined };
  });
  // Only candidates newer than the one production runs await promotion: an older one that passed
  // was overtaken, and promoting it would move production backwards.
  // The live candidate's number from its ARN: it may be older than the candidates read.
  const liveRevision = Number(/:(\d+)$/.exec(production[0]?.tags[TAG.candidate] ?? "")?.[1] ?? 0);
  const status: PipelineStatus = {
    pipeline: spec.name,
    production: production[0] ? summarize(production[0]) : null,
    candidates: withPromotion.slice(0, CANDIDATES_SHOWN),
    awaitingPromotion: withPromotion
      .filter((c) => c.canary === "passed" && !c.promoted && c.revision > liveRevision)
      .map(({ promoted: _, ...c }) => c),
    drift: null,
  };
  const ledger = ledgerOf(ctx, spec);
  if (ledger === undefined) return status;
  const state = await ledger.read(spec.name);
  const { record } = state;
  status.ledger = {
    ...ledger.where(spec.name),
    record:
      record === null
        ? null
        : {
            releaseId: record.releaseId,
            image: record.image.uri,
            commit: record.commit,
            recordCommit: state.recordCommit,
            promotedBy: record.promotedBy,
            promotedAt: record.promotedAt,
          },
    hold: state.hold,
  };
  status.drift = driftBetween(production[0], state);
  return status;
}

function summarize(revision: JobDefinitionRevision): RevisionSummary {
  return {
    arn: revision.arn,
    revision: revision.revision,
    image: imageOf(revision),
    commit: revision.tags[TAG.commit] ?? null,
    releaseId: revision.tags[TAG.release] ?? null,
    canary: revision.tags[TAG.canary] ?? null,
    rollbackOf: revision.tags[TAG.rollbackOf] ?? null,
  };
}
