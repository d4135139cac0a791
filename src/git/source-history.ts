import { simpleGit, type SimpleGit } from "simple-git";
import { BatchshipError } from "../errors.js";
import type { SourceHistory } from "../release/ports.js";

const SHA = /^[0-9a-f]{40}$/;

/**
 * The history of one repository as git sees it: `remote` (a URL or a remote's name) answers
 * which commit a branch points at, `git` (a clone or a mirror) whether one commit holds another.
 * `ensure` may fetch a commit the clone lacks; any question git cannot answer is `undefined`.
 */
export function sourceHistory(
  git: SimpleGit,
  remote: string,
  options: {
    ensure?: (commit: string) => Promise<void>;
    /** Commits known to be in `git` already: no `cat-file` for them. */
    known?: (commit: string) => boolean;
    /** A branch the remote lacks: gone (the service: its source is the truth) or unknown (a checkout's branch may not be pushed yet). */
    missingBranch?: "gone" | "unknown";
  } = {},
): SourceHistory {
  const ensure = options.ensure ?? (async () => {});
  return {
    async headOf(branch) {
      if (branch.startsWith("-") || /[\s\x00-\x1f\x7f]/.test(branch)) return undefined;
      let listed: string;
      try {
        listed = await git.raw(["ls-remote", "--end-of-options", remote, `refs/heads/${branch}`]);
      } catch {
        return undefined;
      }
      for (const line of listed.split("\n")) {
        const [sha, ref] = line.trim().split(/\s+/);
        if (ref === `refs/heads/${branch}` && sha !== undefined && SHA.test(sha)) return sha;
      }
      return options.missingBranch === "unknown" ? undefined : null;
    },
    async contains(descendant, ancestor) {
      if (!SHA.test(descendant) || !SHA.test(ancestor)) return undefined;
      if (descendant === ancestor) return true;
      for (const commit of [descendant, ancestor]) {
        if (options.known?.(commit) === true || (await hasCommit(git, commit))) continue;
        await ensure(commit).catch(() => undefined);
        if (!(await hasCommit(git, commit))) return undefined;
      }
      // Not `--is-ancestor`: it answers by exit code alone, and simple-git does not reject a
      // silent exit 1. The best common ancestor is `ancestor` itself exactly when it is one.
      try {
        return (await git.raw(["merge-base", ancestor, descendant])).trim() === ancestor;
      } catch {
        // Git failed to answer (it could not start, say): unknown, not "no".
        return undefined;
      }
    },
  };
}

/** Every branch of `remote` and its commit (`git ls-remote --heads`); a failure is a GIT error, retryable. */
export async function listRemoteHeads(git: SimpleGit, remote: string, redacted: string): Promise<Map<string, string>> {
  let listed: string;
  try {
    listed = await git.raw(["ls-remote", "--heads", "--end-of-options", remote]);
  } catch (error) {
    const first = (error instanceof Error ? error.message : String(error)).trim().split("\n")[0] ?? "";
    throw new BatchshipError("GIT", `Could not list the branches of ${redacted}: ${first.split(remote).join(redacted)}`, {
      retryable: true,
      hint: "check source.url (or the repository's access for BATCHSHIP_GITHUB_TOKEN)",
    });
  }
  const heads = new Map<string, string>();
  for (const line of listed.split("\n")) {
    const [sha, ref] = line.trim().split(/\s+/);
    if (sha !== undefined && SHA.test(sha) && ref?.startsWith("refs/heads/")) heads.set(ref.slice("refs/heads/".length), sha);
  }
  return heads;
}

export async function hasCommit(git: SimpleGit, commit: string): Promise<boolean> {
  try {
    await git.raw(["cat-file", "-e", `${commit}^{commit}`]);
    return true;
  } catch {
    return false;
  }
}

/**
 * The history of the checkout holding `dir` (the CLI's and the Action's): heads as `origin` has
 * them, with the user's own git setup (in a terminal, git may ask for credentials as it would
 * for `git fetch`); a remote it cannot read leaves the head unknown.
 */
export function checkoutHistory(dir: string): SourceHistory {
  return sourceHistory(simpleGit(dir), "origin", { missingBranch: "unknown" });
}
