import { dirname, relative, resolve } from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";
import { BatchshipError } from "../errors.js";

export interface PipelineAtCommit {
  /** Full 40-hex sha. */
  commit: string;
  /** The branch the release is for (from --branch, else the checked-out branch). */
  branch: string;
  /** The pipeline file's text as it is at that commit. */
  text: string;
  /** Path of the file inside the repository, for messages. */
  pathInRepo: string;
}

const REVISION = /^[0-9A-Za-z][0-9A-Za-z._\/^~-]{0,254}$/;

/**
 * Reads the pipeline file at a commit of the git repository that holds it. The spec is always
 * taken from the commit being released, never from the working tree, so a release is a pure
 * function of its commit. Arguments go to git as argv (simple-git spawns no shell), and are
 * validated first so that nothing can be read as an option.
 */
export async function readPipelineAtCommit(
  pipelineFile: string,
  options: { commit?: string; branch?: string } = {},
): Promise<PipelineAtCommit> {
  const file = resolve(pipelineFile);
  const git = await gitStep(`open the folder of ${pipelineFile}`, async () => simpleGit(dirname(file)));
  const top = await gitStep("find the git repository holding " + pipelineFile, () => git.revparse(["--show-toplevel"]));
  const pathInRepo = relative(top.trim(), file).split("\\").join("/");

  const wanted = options.commit ?? "HEAD";
  if (!REVISION.test(wanted)) throw new BatchshipError("USAGE", `Invalid --commit "${wanted}": expected a commit sha`);
  const commit = (
    await gitStep(`resolve commit ${wanted}`, () => git.revparse(["--verify", "--end-of-options", `${wanted}^{commit}`]))
  ).trim();

  const branch = options.branch ?? (await currentBranch(git));
  await assertBranchName(git, branch);

  const text = await gitStep(`read ${pathInRepo} at ${commit.slice(0, 12)}`, () => git.show([`${commit}:${pathInRepo}`]));
  return { commit, branch, text, pathInRepo };
}

async function currentBranch(git: SimpleGit): Promise<string> {
  const name = (await gitStep("read the current branch", () => git.revparse(["--abbrev-ref", "HEAD"]))).trim();
  if (name === "HEAD") {
    throw new BatchshipError("USAGE", "Cannot tell the branch: HEAD is detached", { hint: "pass --branch NAME" });
  }
  return name;
}

/** Branch names are untrusted text (they reach image tags and reports): git's own rules decide. */
export async function assertBranchName(git: SimpleGit, branch: string): Promise<void> {
  const ok = branch.length > 0 && branch.length <= 255 && !branch.startsWith("-") && !/[\x00-\x1f\x7f]/.test(branch);
  if (ok) {
    try {
      await git.raw(["check-ref-format", "--branch", branch]);
      return;
    } catch {
      // fall through to the error below
    }
  }
  throw new BatchshipError("USAGE", `Invalid branch name ${JSON.stringify(branch)}`, {
    hint: "a branch name as git accepts it (git check-ref-format --branch)",
  });
}

async function gitStep<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const reason = error instanceof Error ? error.message.trim().split("\n")[0] : String(error);
    throw new BatchshipError("GIT", `Could not ${what}: ${reason}`, {
      hint: "the pipeline file must be committed in a git repository; --commit must name a commit in it",
    });
  }
}
