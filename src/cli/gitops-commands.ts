import { unholdPipeline } from "../release/gitops/hold.js";
import { reconcilePipeline } from "../release/gitops/reconcile.js";
import type { PipelineStatus } from "../release/status.js";
import { loadPipelineFile } from "../load-pipeline.js";
import type { CommandEnv } from "./main.js";

interface PipelineOptions {
  pipeline: string;
  json?: boolean;
}

/** `batchship reconcile`: Batch is made to match the release record in git. */
export async function reconcileCommand(env: CommandEnv, o: PipelineOptions): Promise<number> {
  const spec = await loadPipelineFile(o.pipeline);
  const ctx = await env.engine(spec, { json: o.json === true, pipelineFile: o.pipeline });
  const result = await reconcilePipeline(ctx, spec, env.actor);
  if (o.json) env.io.stdout(JSON.stringify(result));
  else if (result.record === null) env.io.stderr(`${spec.name}: the releases branch has no record yet; nothing to reconcile`);
  else {
    const prod = `${spec.jobDefinition.name}:${result.production?.revision ?? "?"}`;
    env.io.stderr(
      result.action === "registered"
        ? `registered ${prod} from the record of ${result.record.releaseId} (${result.kind})${result.hold ? "; automatic promotion is held" : ""}`
        : `${prod} already runs ${result.record.releaseId}, as git records`,
    );
  }
  return 0;
}

/** `batchship unhold`: automatic promotion resumes after a rollback held it. */
export async function unholdCommand(env: CommandEnv, o: PipelineOptions): Promise<number> {
  const spec = await loadPipelineFile(o.pipeline);
  const ctx = await env.engine(spec, { json: o.json === true, pipelineFile: o.pipeline });
  const result = await unholdPipeline(ctx, spec, env.actor);
  if (o.json) env.io.stdout(JSON.stringify(result));
  else env.io.stderr(result.lifted ? `lifted the hold on ${spec.name} (${result.lifted.reason})` : `${spec.name} was not held`);
  return 0;
}

/** The GitOps part of `batchship status`. */
export function ledgerLines(s: PipelineStatus): string[] {
  if (s.ledger === undefined) return [];
  const { record, hold } = s.ledger;
  const lines = [
    record
      ? `git record ${record.releaseId}  ${record.image}  by ${record.promotedBy} at ${record.promotedAt}  (${s.ledger.branch}:${s.ledger.path}${record.recordCommit ? ` @ ${record.recordCommit.slice(0, 12)}` : ""})`
      : `git record: none yet in ${s.ledger.branch}:${s.ledger.path}`,
  ];
  if (hold) lines.push(`held: automatic promotion waits since ${hold.at} (${hold.by}: ${hold.reason})`);
  if (s.drift) {
    const { batch, git } = s.drift;
    lines.push(`DRIFT: ${s.drift.reason}`);
    lines.push(`  batch: revision ${batch.revision}  ${batch.image}  release ${batch.releaseId ?? "(none)"}`);
    lines.push(`  git:   ${git ? `release ${git.releaseId}  ${git.image}` : "(no record)"}`);
    lines.push("  run `batchship reconcile` to make Batch match git, or record the change in git");
  }
  return lines;
}
