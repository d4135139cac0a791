import { applyRetention, type RetainedName } from "../release/retention.js";
import { loadPipelineFile } from "../load-pipeline.js";
import type { CommandEnv } from "./main.js";

/** `batchship prune`: retention on demand, the same that runs after every release. */
export async function pruneCommand(env: CommandEnv, o: { pipeline: string; json?: boolean; dryRun?: boolean }): Promise<number> {
  const spec = await loadPipelineFile(o.pipeline);
  const ctx = await env.engine(spec, { json: o.json === true, pipelineFile: o.pipeline });
  const result = await applyRetention(ctx, spec, { dryRun: o.dryRun === true });
  if (o.json) env.io.stdout(JSON.stringify(result));
  else for (const name of [result.candidates, result.production]) env.io.stderr(pruneLine(name, result.dryRun));
  return 0;
}

function pruneLine(r: RetainedName, dryRun: boolean): string {
  const gone = r.deregistered.map((d) => d.revision).join(", ");
  const verb = dryRun ? "would deregister" : "deregistered";
  return `${r.name}: ${r.active} ACTIVE, kept ${r.kept.length}, ${verb} ${r.deregistered.length}${gone ? ` (revisions ${gone})` : ""}`;
}
