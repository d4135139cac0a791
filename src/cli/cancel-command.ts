import { cancelRelease } from "../release/cancel-release.js";
import { loadPipelineAtCommit } from "../load-pipeline.js";
import type { CommandEnv } from "./main.js";

/** `batchship cancel`: stops the release's build or canary; the run following it ends `cancelled`. */
export async function cancelCommand(env: CommandEnv, o: { pipeline: string; commit?: string; json?: boolean }): Promise<number> {
  const loaded = await loadPipelineAtCommit(o.pipeline, o.commit === undefined ? {} : { commit: o.commit });
  const ctx = await env.engine(loaded.spec, { json: o.json === true, pipelineFile: o.pipeline });
  const result = await cancelRelease(ctx, loaded.spec, loaded.commit);
  if (o.json) {
    env.io.stdout(JSON.stringify({ ...result, status: "cancelled" }));
    return 0;
  }
  if (result.build) env.io.stderr(`cancelled ${result.releaseId}: stopped build ${result.build.id}`);
  if (result.canary) {
    const jobs = result.canary.stoppedJobs;
    const stopped = jobs.length > 0 ? `stopped canary ${jobs.join(", ")}` : "no canary job was running; none will be started";
    env.io.stderr(`cancelled ${result.releaseId}: ${stopped}`);
  }
  env.io.stderr(`  to try it again: batchship release --pipeline ${o.pipeline} --commit ${result.commit} --retry`);
  return 0;
}
