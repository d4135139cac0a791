import { dirname, resolve } from "node:path";
import { simpleGit } from "simple-git";
import { BatchshipError } from "../errors.js";

/**
 * The clone URL of the repository holding a pipeline file — the default home of its release
 * records (`promotion.gitops.repository` left out): the `origin` remote.
 */
export async function configRepositoryOf(pipelineFile: string): Promise<string> {
  const git = simpleGit(dirname(resolve(pipelineFile)));
  let url = "";
  try {
    url = (await git.remote(["get-url", "origin"])) ?? "";
  } catch {
    // no repository or no origin: explained below
  }
  if (url.trim() === "") {
    throw new BatchshipError("USAGE", `Could not find the release ledger of ${pipelineFile}: its git repository has no origin remote`, {
      hint: "set promotion.gitops.repository to the clone URL of the repository that holds release records",
    });
  }
  return url.trim();
}
