import type { PipelineSpec } from "../spec/schema.js";
import type { EngineContext } from "./context.js";
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
  /** Candidates whose canary passed and that were never promoted, newest first. */
  awaitingPromotion: RevisionSummary[];
}

const CANDIDATES_SHOWN = 5;

/** `batchship status`: read entirely from job definition tags, so it works from anywhere. */
export async function pipelineStatus(ctx: EngineContext, spec: PipelineSpec): Promise<PipelineStatus> {
  const { platform } = ctx.backend;
  const [production, candidates] = await Promise.all([
    platform.listJobDefinitionRevisions(spec.jobDefinition.name),
    platform.listJobDefinitionRevisions(candidateName(spec)),
  ]);
  const shown = candidates.slice(0, CANDIDATES_SHOWN).map((c) => {
    const releaseId = c.tags[TAG.release];
    return { ...summarize(c), promoted: releaseId !== undefined && promotionOf(production, releaseId) !== undefined };
  });
  return {
    pipeline: spec.name,
    production: production[0] ? summarize(production[0]) : null,
    candidates: shown,
    awaitingPromotion: shown.filter((c) => c.canary === "passed" && !c.promoted).map(({ promoted: _, ...c }) => c),
  };
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
