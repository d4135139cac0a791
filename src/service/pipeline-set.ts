import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { BatchshipError } from "../errors.js";
import { branchMatches, formatProblem, readSpecFile } from "../spec/index.js";
import type { PipelineSpec } from "../spec/schema.js";

export interface PipelineSet {
  specs: ReadonlyMap<string, PipelineSpec>;
  /** Files that did not load, one line each (they are skipped, not fatal). */
  problems: string[];
  loadedAt: number;
}

/**
 * Every `*.yml` / `*.yaml` in the folder, parsed with the same loader as `batchship validate`.
 * A file with problems is skipped and reported, so one typo does not stop every other
 * pipeline; a folder that cannot be read at all is an error.
 */
export async function loadPipelineSet(dir: string, now: number): Promise<PipelineSet> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => /\.ya?ml$/.test(name)).sort();
  } catch (error) {
    throw new BatchshipError("ENVIRONMENT", `Could not read the pipelines folder ${dir}: ${error instanceof Error ? error.message : String(error)}`, {
      hint: "--pipelines must name the folder holding the config repository's pipeline files",
    });
  }
  const specs = new Map<string, PipelineSpec>();
  const problems: string[] = [];
  for (const name of names) {
    const file = join(dir, name);
    const loaded = await readSpecFile(file);
    if (!loaded.ok) {
      problems.push(...loaded.problems.map(formatProblem));
      continue;
    }
    if (specs.has(loaded.spec.name)) {
      problems.push(`${file}: pipeline name ${loaded.spec.name} is used by another file; skipped`);
      continue;
    }
    specs.set(loaded.spec.name, loaded.spec);
  }
  return { specs, problems, loadedAt: now };
}

/** GitHub repository names are case-insensitive. */
export function pipelinesForRepository(set: PipelineSet, repository: string): PipelineSpec[] {
  const wanted = repository.toLowerCase();
  return [...set.specs.values()].filter((spec) => spec.source.repository.toLowerCase() === wanted);
}

export function pipelinesForPush(set: PipelineSet, repository: string, branch: string): PipelineSpec[] {
  return pipelinesForRepository(set, repository).filter((spec) => branchMatches(spec.source.branches, branch));
}
