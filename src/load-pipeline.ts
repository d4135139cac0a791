import { BatchshipError } from "./errors.js";
import { readPipelineAtCommit } from "./git/pipeline-at-commit.js";
import { formatProblem, parseSpec, readSpecFile, type LoadResult } from "./spec/index.js";
import type { PipelineSpec } from "./spec/schema.js";

/** Pipeline loading shared by the CLI and the Action: same files, same errors. */
export interface LoadedPipeline {
  spec: PipelineSpec;
  commit: string;
  branch: string;
}

/** The spec as committed at the release's commit (release, promote). */
export async function loadPipelineAtCommit(
  file: string,
  options: { commit?: string; branch?: string },
): Promise<LoadedPipeline> {
  const at = await readPipelineAtCommit(file, options);
  const spec = specOrThrow(parseSpec(at.text, file));
  return { spec, commit: at.commit, branch: at.branch };
}

/** The spec as it is on disk (status, rollback, doctor: nothing is built from it). */
export async function loadPipelineFile(file: string): Promise<PipelineSpec> {
  return specOrThrow(await readSpecFile(file));
}

function specOrThrow(result: LoadResult): PipelineSpec {
  if (result.ok) return result.spec;
  throw new BatchshipError("SPEC_INVALID", result.problems.map(formatProblem).join("\n"));
}
