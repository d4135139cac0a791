import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";
import { BatchshipError } from "../errors.js";
import type { SourceHistory } from "../release/ports.js";
import { hasCommit, listRemoteHeads, sourceHistory } from "./source-history.js";
import { stalledTransferEnv } from "./stalled-transfer.js";

export interface MirrorCache {
  /**
   * Makes sure `commit` is in the bare mirror of `url`, fetching it when absent: first the
   * branch that was pushed, then the commit by sha (a branch may have moved on by now).
   * Returns the mirror's path.
   */
  fetchCommit(request: { url: string; branch: string; commit: string }): Promise<string>;
  /** The history of `url`: branch heads by `git ls-remote`, ancestry in its mirror (a missing commit is fetched by sha). */
  history(url: string): SourceHistory;
  /** Every branch of `url` and the commit it points at now. */
  remoteHeads(url: string): Promise<Map<string, string>>;
}

const SHA = /^[0-9a-f]{40}$/;
const BRANCH = /^[^-\s][^\s]*$/;

/**
 * Bare mirrors of app repositories, one per clone URL, under `dir`. The token, if any, reaches
 * git through GIT_CONFIG_* environment variables as an HTTP header: never in a URL, a mirror's
 * config file, argv (visible in `ps`) or an error message.
 */
export function createMirrorCache(options: {
  dir: string;
  token?: string;
  tokenScope?: string;
  /** How long a fetch may move under 1 kB/s before it fails (default five minutes). */
  stallSeconds?: number;
}): MirrorCache {
  // The token goes only to the GitHub host, never to a source.url elsewhere.
  const env = { ...gitEnvironment(options.token, options.tokenScope ?? "https://github.com/"), ...stalledTransferEnv(options.stallSeconds) };
  const locks = new Map<string, Promise<unknown>>();

  const fetchCommit = async ({ url, branch, commit }: { url: string; branch: string; commit: string }): Promise<string> => {
    if (!SHA.test(commit)) throw new BatchshipError("USAGE", `Could not fetch commit ${JSON.stringify(commit)}: not a 40-character sha`);
    if (!BRANCH.test(branch)) throw new BatchshipError("USAGE", `Could not fetch branch ${JSON.stringify(branch)}: not a branch name`);
    const path = join(options.dir, `${mirrorName(url)}.git`);
    const git = await openMirror(path, env);
    if (await hasCommit(git, commit)) return path;
    const where = `${commit.slice(0, 12)} from ${redactUrl(url)}`;
    try {
      await git.fetch(["--quiet", "--no-tags", "--end-of-options", url, `+refs/heads/${branch}:refs/heads/${branch}`]);
    } catch {
      // The branch may be gone or force-pushed away; the commit by sha is what matters.
    }
    if (!(await hasCommit(git, commit))) {
      try {
        await git.fetch(["--quiet", "--no-tags", "--end-of-options", url, commit]);
      } catch (error) {
        throw new BatchshipError("GIT", `Could not fetch ${where}: ${firstLine(error, options.token)}`, {
          retryable: true,
          hint: "check source.url (or the repository's access for BATCHSHIP_GITHUB_TOKEN)",
        });
      }
    }
    if (!(await hasCommit(git, commit))) {
      throw new BatchshipError("GIT", `Could not fetch ${where}: the commit is not in the repository`);
    }
    return path;
  };

  // One fetch per mirror at a time: two git processes writing one bare repository race on its refs.
  const oneAtATime = async <T>(url: string, step: () => Promise<T>): Promise<T> => {
    const key = mirrorName(url);
    const previous = locks.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(step);
    locks.set(key, current);
    try {
      return await current;
    } finally {
      if (locks.get(key) === current) locks.delete(key);
    }
  };

  return {
    fetchCommit: (request) => oneAtATime(request.url, () => fetchCommit(request)),
    async remoteHeads(url) {
      const git = await openMirror(join(options.dir, `${mirrorName(url)}.git`), env);
      return listRemoteHeads(git, url, redactUrl(url));
    },
    history(url) {
      const path = join(options.dir, `${mirrorName(url)}.git`);
      let opened: Promise<SimpleGit> | undefined;
      const git = () => (opened ??= openMirror(path, env));
      const fetchSha = (commit: string) =>
        oneAtATime(url, async () => {
          const mirror = await git();
          if (!(await hasCommit(mirror, commit))) await mirror.fetch(["--quiet", "--no-tags", "--end-of-options", url, commit]);
        });
      let history: SourceHistory | undefined;
      const inMirror = async () => (history ??= sourceHistory(await git(), url, { ensure: fetchSha }));
      return {
        headOf: async (branch) => (await inMirror()).headOf(branch),
        contains: async (descendant, ancestor) => (await inMirror()).contains(descendant, ancestor),
      };
    },
  };
}

async function openMirror(path: string, env: Record<string, string>): Promise<SimpleGit> {
  await mkdir(path, { recursive: true });
  // GIT_CONFIG_COUNT is how the token reaches git without argv or files; simple-git wants that said explicitly.
  const git = simpleGit({
    baseDir: path,
    allowEnvironment: Object.keys(env),
    unsafe: { allowUnsafeConfigEnvCount: true },
  }).env(env);
  const isRepo = await git.revparse(["--is-bare-repository"]).then((out) => out.trim() === "true", () => false);
  if (!isRepo) await git.init(true);
  return git;
}

function gitEnvironment(token: string | undefined, scope: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ["PATH", "HOME", "TMPDIR", "SystemRoot", "LANG"]) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  env.GIT_TERMINAL_PROMPT = "0";
  if (token) {
    const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
    env.GIT_CONFIG_COUNT = "1";
    env.GIT_CONFIG_KEY_0 = `http.${scope.endsWith("/") ? scope : `${scope}/`}.extraHeader`;
    env.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${basic}`;
  }
  return env;
}

/** A readable, collision-free folder name for a clone URL. */
function mirrorName(url: string): string {
  const readable = redactUrl(url).replace(/^[a-z+]+:\/\//i, "").replace(/[^A-Za-z0-9._-]+/g, "_").slice(-60);
  return `${readable}-${createHash("sha256").update(url).digest("hex").slice(0, 10)}`;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//");
}

function firstLine(error: unknown, token: string | undefined): string {
  const text = (error instanceof Error ? error.message : String(error)).trim().split("\n")[0] ?? "";
  return token ? text.split(token).join("[redacted]") : text;
}
