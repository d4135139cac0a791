import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";
import { BatchshipError } from "../errors.js";
import { displayUrl, ledgerGitEnvironment, redactSecrets, type GitCredentials } from "./git-credentials.js";

export interface LedgerCloneOptions {
  repository: string;
  branch: string;
  cacheDir: string;
  credentials: GitCredentials;
  ambientEnv: Readonly<Record<string, string | undefined>>;
  author: { name: string; email: string };
}

/** A working clone of one releases branch, reset to the remote before every use. */
export interface LedgerClone {
  dir: string;
  git: SimpleGit;
  /** Fetches the branch and resets to it; false when the remote has no such branch yet. */
  sync(): Promise<boolean>;
  /** Pushes HEAD to the branch: "rejected" when someone pushed first (fetch, re-apply, retry). */
  push(): Promise<"pushed" | "rejected">;
  /** Runs a git step, turning its failure into a BatchshipError with secrets redacted. */
  step<T>(what: string, run: () => Promise<T>): Promise<T>;
}

export async function openLedgerClone(options: LedgerCloneOptions): Promise<LedgerClone> {
  const { repository, branch, credentials } = options;
  const key = createHash("sha256").update(`${repository}\0${branch}`).digest("hex").slice(0, 16);
  const dir = join(options.cacheDir, key);
  const { env, allow, unsafe } = ledgerGitEnvironment(options.ambientEnv, credentials);
  const shown = displayUrl(repository);

  const step = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof BatchshipError) throw error;
      const reason = redactSecrets(error instanceof Error ? error.message : String(error), credentials).trim();
      throw new BatchshipError("ENVIRONMENT", `Could not ${what} (release ledger ${shown} ${branch}): ${reason.split("\n").slice(0, 3).join(" ")}`, {
        retryable: true,
        hint: "check the repository URL in promotion.gitops, and that BATCHSHIP_GIT_TOKEN or the SSH agent grants push access",
      });
    }
  };

  await mkdir(dir, { recursive: true });
  const git = simpleGit({ baseDir: dir, allowEnvironment: allow, unsafe }).env(env);
  if (!existsSync(join(dir, ".git"))) {
    await step("create the ledger clone", async () => {
      await git.init(["-q"]);
      await git.addRemote("origin", repository);
      await git.addConfig("user.name", options.author.name);
      await git.addConfig("user.email", options.author.email);
      await git.addConfig("commit.gpgsign", "false");
    });
  }
  const remoteRef = `refs/remotes/origin/${branch}`;

  return {
    dir,
    git,
    step,
    async sync() {
      const exists = await step("fetch the releases branch", async () => {
        try {
          await git.raw(["fetch", "--quiet", "--no-tags", "origin", `+refs/heads/${branch}:${remoteRef}`]);
          return true;
        } catch (error) {
          if (/couldn't find remote ref/i.test(error instanceof Error ? error.message : "")) return false;
          throw error;
        }
      });
      await step("reset the ledger clone", async () => {
        if (exists) {
          await git.raw(["checkout", "--quiet", "--force", "-B", branch, remoteRef]);
        } else {
          // The branch is created by the first record: start it as an orphan with no files.
          await git.raw(["symbolic-ref", "HEAD", `refs/heads/${branch}`]);
          await git.raw(["update-ref", "-d", `refs/heads/${branch}`]).catch(() => undefined);
          await git.raw(["update-ref", "-d", remoteRef]).catch(() => undefined);
          await git.raw(["read-tree", "--empty"]);
        }
        await git.raw(["clean", "-fdxq"]);
      });
      return exists;
    },
    async push() {
      return step("push the release record", async () => {
        try {
          await git.raw(["push", "--quiet", "origin", `HEAD:refs/heads/${branch}`]);
          return "pushed" as const;
        } catch (error) {
          const message = error instanceof Error ? error.message : "";
          if (/rejected|non-fast-forward|fetch first|failed to update ref|cannot lock ref|stale info/i.test(message)) {
            return "rejected" as const;
          }
          throw error;
        }
      });
    },
  };
}
