import type { PipelineSpec } from "../spec/schema.js";
import type { EngineContext } from "./context.js";
import { ledgerOf } from "./gitops/hold.js";
import { candidateName } from "./job-definition.js";
import { ReleaseInterrupted, type JobDefinitionRevision } from "./ports.js";
import { planCandidates, planProduction, type KeptRevision, type RetentionPlan } from "./retention-plan.js";
import { rollbackHistory } from "./revision-lookup.js";

export interface RetainedName {
  name: string;
  /** ACTIVE revisions before this run. */
  active: number;
  kept: KeptRevision[];
  /** Oldest first; with `dryRun`, what would be deregistered. */
  deregistered: { arn: string; revision: number }[];
}

export interface RetentionResult {
  pipeline: string;
  dryRun: boolean;
  production: RetainedName;
  candidates: RetainedName;
}

/**
 * Deregisters the revisions of a pipeline that retention (`spec.retention`) no longer keeps,
 * oldest first. Every step leaves a state the plan accepts — what is left is always a superset of
 * what a finished run keeps, and the plan of that state is the same — so a crash midway is
 * finished by the next run (after the next release, or `batchship prune`), and a second run
 * deregisters nothing.
 */
export async function applyRetention(
  ctx: EngineContext,
  spec: PipelineSpec,
  /**
   * `newest`: plan on the newest revisions only (after a release: its cost does not grow with the
   * history; what lies further back stays as it is until `batchship prune`). Default: everything.
   */
  options: { dryRun?: boolean; scope?: "newest" | "all" } = {},
): Promise<RetentionResult> {
  const { platform } = ctx.backend;
  const productionName = spec.jobDefinition.name;
  const canaryName = candidateName(spec);
  const ledger = ledgerOf(ctx, spec);
  const newestOnly = options.scope === "newest";
  const [production, candidates, ledgerState] = await Promise.all([
    newestOnly ? rollbackHistory(platform, productionName) : platform.listJobDefinitionRevisions(productionName),
    newestOnly ? platform.newestJobDefinitionRevisions(canaryName).then((n) => n.revisions) : platform.listJobDefinitionRevisions(canaryName),
    ledger === undefined ? undefined : ledger.read(spec.name),
  ]);
  const productionPlan = planProduction(production, spec.retention.production, ledgerState?.record ?? null);
  const candidatePlan = planCandidates(candidates, production, spec.retention.candidates);
  const dryRun = options.dryRun === true;
  if (!dryRun) {
    for (const revision of [...candidatePlan.deregister, ...productionPlan.deregister]) {
      await platform.deregisterJobDefinition(revision.arn);
    }
  }
  return {
    pipeline: spec.name,
    dryRun,
    production: summary(productionName, production, productionPlan),
    candidates: summary(canaryName, candidates, candidatePlan),
  };
}

/**
 * Retention as the last step of a release: it never fails the release. A failure is a warning,
 * and the next release (or `batchship prune`) finishes the job.
 */
export async function retainAfterRelease(ctx: EngineContext, spec: PipelineSpec): Promise<void> {
  try {
    await applyRetention(ctx, spec, { scope: "newest" });
  } catch (error) {
    if (error instanceof ReleaseInterrupted) throw error;
    const message = error instanceof Error ? error.message : String(error);
    ctx.observe({
      type: "warning",
      message: `retention of ${spec.name} stopped; the next release or \`batchship prune\` finishes it: ${message}`,
    });
  }
}

function summary(name: string, active: readonly JobDefinitionRevision[], plan: RetentionPlan): RetainedName {
  return {
    name,
    active: active.length,
    kept: plan.keep,
    deregistered: plan.deregister.map((r) => ({ arn: r.arn, revision: r.revision })),
  };
}
