import { simpleGit } from "simple-git";
import { BatchshipError } from "../errors.js";
import { sourceGitEnvironment } from "./source-environment.js";
import { stalledTransferEnv } from "./stalled-transfer.js";

/**
 * Fast-forwards the config repository's checkout that holds the pipeline files, when it is a
 * git work tree. Returns false when it is not one (the files are deployed some other way, and
 * SIGHUP is how the service hears about changes).
 */
export async function updateCheckout(dir: string): Promise<boolean> {
  const { env, allow, unsafe } = sourceGitEnvironment(process.env, { GIT_TERMINAL_PROMPT: "0", ...stalledTransferEnv() });
  const git = simpleGit({ baseDir: dir, allowEnvironment: allow, unsafe }).env(env);
  const inWorkTree = await git.revparse(["--is-inside-work-tree"]).then((out) => out.trim() === "true", () => false);
  if (!inWorkTree) return false;
  try {
    await git.pull(["--ff-only", "--quiet"]);
    return true;
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).trim().split("\n")[0];
    throw new BatchshipError("GIT", `Could not update the pipelines checkout ${dir}: ${reason}`, {
      retryable: true,
      hint: "the checkout must track a branch and have no local commits (git pull --ff-only)",
    });
  }
}
