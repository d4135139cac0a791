import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { BatchshipError } from "../errors.js";
import { branchMatches, formatProblem, readSpecFile } from "../spec/index.js";
import type { PipelineSpec } from "../spec/schema.js";

export interface PipelineSet {
  /** The pipelines served, by pipeline name. */
  specs: ReadonlyMap<string, PipelineSpec>;
  /** Every problem line of this load (`file:line:col: path: message`), skipped and kept files alike. */
  problems: string[];
  /** Files that have problems now but loaded before: their pipeline keeps running on the last good copy. */
  kept: KeptPipeline[];
  /** The spec served from each file (by path), kept copies included: what the next reload falls back to. */
  files: ReadonlyMap<string, PipelineSpec>;
  loadedAt: number;
}

export interface KeptPipeline {
  /** The pipeline file, as in its problem lines. */
  file: string;
  /** The name in the last good copy, which is what is served (the broken file may name another). */
  pipeline: string;
  /** When a reload first found the file broken (epoch ms). */
  since: number;
  /** This load's problem lines for the file. */
  problems: string[];
}

/**
 * Every `*.yml` / `*.yaml` in the folder, parsed with the same loader as `batchship validate`.
 * A file with problems does not stop the other pipelines: with `previous` (a reload), a file
 * that served a pipeline before keeps serving that last good copy; any other is skipped. Both
 * are reported. A file that is gone is dropped: deleting a file removes its pipeline. A folder
 * that cannot be read at all is an error.
 *
 * The last good copy is keyed by file path, not pipeline name, so a broken edit that also
 * renames the pipeline keeps the old name running until the file is fixed.
 */
export async function loadPipelineSet(dir: string, now: number, previous?: PipelineSet): Promise<PipelineSet> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => /\.ya?ml$/.test(name)).sort();
  } catch (error) {
    throw new BatchshipError("ENVIRONMENT", `Could not read the pipelines folder ${dir}: ${error instanceof Error ? error.message : String(error)}`, {
      hint: "--pipelines must name the folder holding the config repository's pipeline files",
    });
  }
  const specs = new Map<string, PipelineSpec>();
  const files = new Map<string, PipelineSpec>();
  const problems: string[] = [];
  const kept: KeptPipeline[] = [];
  for (const name of names) {
    const file = join(dir, name);
    const loaded = await readSpecFile(file);
    let spec: PipelineSpec;
    let broken: KeptPipeline | undefined;
    if (loaded.ok) {
      spec = loaded.spec;
    } else {
      const lines = loaded.problems.map(formatProblem);
      problems.push(...lines);
      const lastGood = previous?.files.get(file);
      if (lastGood === undefined) continue;
      spec = lastGood;
      const since = previous?.kept.find((k) => k.file === file)?.since ?? now;
      broken = { file, pipeline: spec.name, since, problems: lines };
    }
    // Names are claimed in file order, a kept copy like any other, so one file breaking
    // never hands its pipeline name to another file.
    if (specs.has(spec.name)) {
      problems.push(
        broken === undefined
          ? `${file}: pipeline name ${spec.name} is used by another file; skipped`
          : `${file}: its last good copy names pipeline ${spec.name}, which another file now uses; skipped`,
      );
      continue;
    }
    specs.set(spec.name, spec);
    files.set(file, spec);
    if (broken !== undefined) kept.push(broken);
  }
  return { specs, problems, kept, files, loadedAt: now };
}

/** GitHub repository names are case-insensitive. */
export function pipelinesForRepository(set: PipelineSet, repository: string): PipelineSpec[] {
  const wanted = repository.toLowerCase();
  return [...set.specs.values()].filter((spec) => spec.source.repository.toLowerCase() === wanted);
}

export function pipelinesForPush(set: PipelineSet, repository: string, branch: string): PipelineSpec[] {
  return pipelinesForRepository(set, repository).filter((spec) => branchMatches(spec.source.branches, branch));
}

/** Where the service fetches a pipeline's commits from: `source.url`, else the repository on the GitHub host. */
export function sourceUrlOf(spec: PipelineSpec, githubUrl: string): string {
  return spec.source.url ?? `${githubUrl}/${spec.source.repository}.git`;
}
