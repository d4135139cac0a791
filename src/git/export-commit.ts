import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { simpleGit } from "simple-git";
import { BatchshipError } from "../errors.js";

const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/**
 * Writes the files of `commit` into `dest` (which must exist), whatever the working tree holds:
 * a release builds its commit, never uncommitted changes. A throwaway index keeps the
 * repository's own index and working tree untouched. `repositoryDir` is a folder inside a
 * repository with a working tree (the CLI's) or a bare repository (the service's mirror): `dest`
 * serves as the work tree either way, since git refuses to check out where there is none.
 */
export async function exportCommit(repositoryDir: string, commit: string, dest: string): Promise<void> {
  if (!SHA.test(commit)) throw new BatchshipError("USAGE", `Invalid commit "${commit}": expected a full sha`);
  const scratch = await mkdtemp(join(dest, "..", ".batchship-index-"));
  try {
    // simple-git replaces the whole environment when given one (and refuses some variables):
    // PATH finds git, HOME its config.
    const env: Record<string, string> = { GIT_INDEX_FILE: join(scratch, "index"), GIT_WORK_TREE: dest };
    for (const name of ["PATH", "HOME"] as const) {
      const value = process.env[name];
      if (value !== undefined) env[name] = value;
    }
    const git = simpleGit({ baseDir: repositoryDir, allowEnvironment: ["GIT_INDEX_FILE", "GIT_WORK_TREE"] }).env(env);
    await git.raw(["read-tree", "--end-of-options", commit]);
    await git.raw(["checkout-index", "--all", "--force", `--prefix=${dest}/`]);
  } catch (error) {
    const reason = error instanceof Error ? error.message.trim().split("\n")[0] : String(error);
    throw new BatchshipError("GIT", `Could not export commit ${commit.slice(0, 12)} for the build: ${reason}`, {
      hint: "the commit must exist in the repository holding the pipeline file",
      cause: error,
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
