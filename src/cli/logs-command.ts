import { BatchshipError } from "../errors.js";
import { loadPipelineAtCommit } from "../load-pipeline.js";
import { readCanaryLogs, type ChildLogLine } from "../release/canary-logs.js";
import { releaseIdFor } from "../release/release-id.js";
import type { CommandEnv } from "./main.js";

export interface LogsOptions {
  pipeline: string;
  commit?: string;
  release?: string;
  index?: number;
  failed?: boolean;
  follow?: boolean;
  pollInterval?: number;
  json?: boolean;
}

/**
 * `batchship logs`: the canary children's output, one line per event on stdout (`[index]
 * message`, or with --json one object per line). --follow reads until the canary ends; Ctrl-C
 * stops reading and leaves the canary running.
 */
export async function logsCommand(env: CommandEnv, o: LogsOptions): Promise<number> {
  const json = o.json === true;
  const loaded = await loadPipelineAtCommit(o.pipeline, o.commit === undefined ? {} : { commit: o.commit });
  const releaseId = o.release ?? releaseIdFor(loaded.spec.name, loaded.commit);
  const pattern = new RegExp(`^${escapeRegExp(loaded.spec.name)}-[0-9a-f]{12}$`);
  if (!pattern.test(releaseId)) {
    throw new BatchshipError("USAGE", `--release ${JSON.stringify(releaseId)} is not a release of pipeline ${loaded.spec.name}`, {
      hint: `a release id is ${loaded.spec.name}-<first 12 characters of the commit>, as \`batchship status\` shows`,
    });
  }
  const ctx = await env.engine(loaded.spec, { json: true, pipelineFile: o.pipeline, ...(o.pollInterval === undefined ? {} : { pollSeconds: o.pollInterval }) });
  const stop = new AbortController();
  const interrupt = (): void => stop.abort();
  if (o.follow === true) process.once("SIGINT", interrupt);
  const print = json
    ? (line: ChildLogLine) => env.io.stdout(JSON.stringify(line))
    : (line: ChildLogLine) => env.io.stdout(`[${line.index}] ${line.message}`);
  try {
    const result = await readCanaryLogs(
      ctx,
      loaded.spec,
      releaseId,
      {
        ...(o.index === undefined ? {} : { index: o.index }),
        ...(o.failed === true ? { failed: true } : {}),
        ...(o.follow === true ? { follow: true, signal: stop.signal } : {}),
      },
      print,
    );
    if (!json) {
      const which = result.children.length === 0 ? (o.failed === true ? "no child has failed" : "no child has output yet") : `children ${result.children.join(", ")}`;
      env.io.stderr(`canary ${result.jobId} of ${releaseId} (attempt ${result.attempt}, ${result.status}): ${which}`);
      if (stop.signal.aborted) env.io.stderr("stopped following; the canary keeps running (`batchship logs --follow` again picks it up)");
    }
    return 0;
  } finally {
    process.off("SIGINT", interrupt);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
