import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { simpleGit, type SimpleGit } from "simple-git";
import { createGitReleaseLedger } from "../../src/git/git-release-ledger.js";
import type { ReleaseLedger } from "../../src/release/gitops/ledger.js";

export const RELEASES = "batchship/releases";

/** A bare repository on disk, reached through a file:// URL like any remote. */
export interface BareRemote {
  dir: string;
  url: string;
  /** Commits of a branch touching a path (all when no path), newest first. */
  log(path?: string, branch?: string): Promise<{ sha: string; message: string; parents: string[] }[]>;
  /** A file at a revision (default: the tip of the releases branch). */
  show(path: string, revision?: string): Promise<string | undefined>;
  /** A "machine": a ledger with its own cache folder. */
  ledger(path?: string): Promise<ReleaseLedger>;
  /** A person's clone of the releases branch. */
  personClone(): Promise<PersonClone>;
  remove(): Promise<void>;
}

export interface PersonClone {
  dir: string;
  git: SimpleGit;
  readJson(path: string): Promise<Record<string, unknown>>;
  writeJson(path: string, value: unknown): Promise<void>;
}

export async function createBareRemote(): Promise<BareRemote> {
  const dir = await mkdtemp(join(tmpdir(), "batchship-remote-"));
  await simpleGit(dir).init(["--bare", "--quiet"]);
  const url = pathToFileURL(dir).href;
  const temps: string[] = [dir];
  const temp = async (prefix: string) => {
    const t = await mkdtemp(join(tmpdir(), prefix));
    temps.push(t);
    return t;
  };
  const bare = simpleGit(dir);
  return {
    dir,
    url,
    async log(path, branch = RELEASES) {
      const args = ["log", "--format=%H%x1f%P%x1f%B%x1e", branch];
      const out = await bare.raw(path === undefined ? args : [...args, "--", path]).catch(() => "");
      return out
        .split("\x1e")
        .map((s) => s.trim())
        .filter(Boolean)
        .map((entry) => {
          const [sha = "", parents = "", message = ""] = entry.split("\x1f");
          return { sha, parents: parents.split(" ").filter(Boolean), message };
        });
    },
    show: (path, revision = RELEASES) => bare.show([`${revision}:${path}`]).catch(() => undefined),
    async ledger(path = "releases/{pipeline}.json") {
      return createGitReleaseLedger({ repository: url, branch: RELEASES, path, cacheDir: await temp("batchship-cache-") });
    },
    async personClone() {
      const cloneDir = await temp("batchship-person-");
      await simpleGit().clone(url, cloneDir, ["--quiet", "--branch", RELEASES]);
      const git = simpleGit(cloneDir);
      await git.addConfig("user.name", "Alice");
      await git.addConfig("user.email", "alice@example.com");
      await git.addConfig("commit.gpgsign", "false");
      return {
        dir: cloneDir,
        git,
        readJson: async (path) => JSON.parse(await readFile(join(cloneDir, path), "utf8")) as Record<string, unknown>,
        writeJson: (path, value) => writeFile(join(cloneDir, path), `${JSON.stringify(value, null, 2)}\n`),
      };
    },
    async remove() {
      await Promise.all(temps.map((t) => rm(t, { recursive: true, force: true })));
    },
  };
}
