import { existsSync } from "node:fs";
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
  const { git, top } = await missingFileFirst(pipelineFile, async () => {
    const opened = await gitStep(`open the folder of ${pipelineFile}`, async () => simpleGit(dirname(file)));
    return { git: opened, top: await gitStep("find the git repository holding " + pipelineFile, () => opened.revparse(["--show-toplevel"])) };
  });
  const pathInRepo = relative(top.trim(), file).split("\\").join("/");

  const wanted = options.commit ?? "HEAD";
  if (!REVISION.test(wanted)) throw new BatchshipError("USAGE", `Invalid --commit "${wanted}": expected a commit sha`);
  const commit = (
    await gitStep(`resolve commit ${wanted}`, () => git.revparse(["--verify", "--end-of-options", `${wanted}^{commit}`]))
  ).trim();

  const branch = options.branch ?? (await currentBranch(git));
  await assertBranchName(git, branch);
  await assertCommitOnBranch(git, commit, branch);

  const text = await gitStep(`read ${pathInRepo} at ${commit.slice(0, 12)}`, () => git.show([`${commit}:${pathInRepo}`]));
  return { commit, branch, text, pathInRepo };
}

/**
 * A pipeline file that does not exist, outside any repository, is a mistyped path: say so,
 * rather than git's "not a git repository" for the folder it would be in.
 */
async function missingFileFirst<T>(pipelineFile: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (error) {
    if (existsSync(pipelineFile)) throw error;
    throw new BatchshipError("USAGE", `Cannot read pipeline file ${pipelineFile}: it does not exist`, {
      hint: "check the path given to --pipeline (relative paths start at the current directory)",
    });
  }
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
    // The full ref, not --branch: that form would expand @{-1} and friends. --normalize prints
    // the ref when it is valid and nothing when not (simple-git does not reject a silent exit 1).
    const ref = `refs/heads/${branch}`;
    const normalized = await git.raw(["check-ref-format", "--normalize", ref]).then(
      (out) => out.trim(),
      () => "",
    );
    if (normalized === ref) return;
  }
  throw new BatchshipError("USAGE", `Invalid branch name ${JSON.stringify(branch)}`, {
    hint: "a branch name as git accepts it (git check-ref-format --branch)",
  });
}

/**
 * A release is for a commit of a tracked branch: a feature commit released "as main" would
 * reach production without ever being on main. The branch may be local or only fetched.
 */
async function assertCommitOnBranch(git: SimpleGit, commit: string, branch: string): Promise<void> {
  const refs = [`refs/heads/${branch}`, `refs/remotes/origin/${branch}`];
  let found = false;
  for (const ref of refs) {
    const exists = await git.raw(["rev-parse", "--verify", "--quiet", ref]).then(
      (out) => out.trim() !== "",
      () => false,
    );
    if (!exists) continue;
    found = true;
    // The commit is on the branch when it is its own merge base with the branch tip. (simple-git
    // resolves a silent non-zero exit, so `--is-ancestor`'s status cannot be read here.)
    const base = await git.raw(["merge-base", commit, ref]).then(
      (out) => out.trim(),
      () => "",
    );
    if (base === commit) return;
  }
  throw new BatchshipError(
    "USAGE",
    found
      ? `Commit ${commit.slice(0, 12)} is not on branch ${branch}`
      : `Branch ${branch} does not exist in the repository holding the pipeline file`,
    { hint: "release a commit of the branch it is released for (--branch), after fetching it" },
  );
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
