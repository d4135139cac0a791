import { createHash } from "node:crypto";
import { mkdir, readdir, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";
import { BatchshipError } from "../errors.js";
import { parseSourceUrl } from "../spec/source-url.js";
import { sourceGitEnvironment, type GitProcessEnvironment } from "./source-environment.js";
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
  /**
   * Deletes the mirrors last used before `cutoff` (epoch ms), except those of the URLs in
   * `inUse` and those with a fetch under way; resolves to how many it deleted. Using a mirror
   * marks it used (its folder's mtime). A mirror deleted is fetched again when next needed.
   */
  prune(cutoff: number, inUse: Iterable<string>): Promise<number>;
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
  /** The GitHub (Enterprise) web URL: the only host the token goes to, and plain http is allowed only under it. */
  tokenScope?: string;
  /** How long a fetch may move under 1 kB/s before it fails (default five minutes). */
  stallSeconds?: number;
  /** file:// sources: repositories of this machine, which the service may read only when told so. */
  allowFileSources?: boolean;
  /** Where the SSH agent, proxies and CA settings come from (default: this process's environment). */
  ambientEnv?: Readonly<Record<string, string | undefined>>;
}): MirrorCache {
  const scope = options.tokenScope ?? "https://github.com/";
  const scopeIsHttp = scope.startsWith("http://");
  // Git's own check, for redirects and anything a URL check here might miss.
  const protocols = ["https", "ssh", ...(options.allowFileSources === true ? ["file"] : []), ...(scopeIsHttp ? ["http"] : [])];
  const gitEnv = sourceGitEnvironment(options.ambientEnv ?? process.env, {
    ...ownGitSettings(options.token, scope),
    ...stalledTransferEnv(options.stallSeconds),
    GIT_ALLOW_PROTOCOL: protocols.join(":"),
  });
  const locks = new Map<string, Promise<unknown>>();

  const fetchCommit = async ({ url, branch, commit }: { url: string; branch: string; commit: string }): Promise<string> => {
    if (!SHA.test(commit)) throw new BatchshipError("USAGE", `Could not fetch commit ${JSON.stringify(commit)}: not a 40-character sha`);
    if (!BRANCH.test(branch)) throw new BatchshipError("USAGE", `Could not fetch branch ${JSON.stringify(branch)}: not a branch name`);
    refuseSource(url, { scope: scopeIsHttp ? scope : undefined, allowFile: options.allowFileSources === true });
    const path = join(options.dir, `${mirrorName(url)}.git`);
    const mirror = await openMirror(path, gitEnv);
    if (await hasCommit(mirror, commit)) return path;
    const where = `${commit.slice(0, 12)} from ${redactUrl(url)}`;
    try {
      await mirror.fetch(["--quiet", "--no-tags", "--end-of-options", url, `+refs/heads/${branch}:refs/heads/${branch}`]);
    } catch {
      // The branch may be gone or force-pushed away; the commit by sha is what matters.
    }
    if (!(await hasCommit(mirror, commit))) {
      try {
        await mirror.fetch(["--quiet", "--no-tags", "--end-of-options", url, commit]);
      } catch (error) {
        throw new BatchshipError("GIT", `Could not fetch ${where}: ${firstLine(error, options.token)}`, {
          retryable: true,
          hint: "check source.url (or the repository's access for BATCHSHIP_GITHUB_TOKEN)",
        });
      }
    }
    if (!(await hasCommit(mirror, commit))) {
      throw new BatchshipError("GIT", `Could not fetch ${where}: the commit is not in the repository`);
    }
    return path;
  };

  // One fetch per mirror at a time: two git processes writing one bare repository race on its refs.
  const oneAtATime = <T>(url: string, step: () => Promise<T>): Promise<T> => oneAtATimeKey(mirrorName(url), step);
  const oneAtATimeKey = async <T>(key: string, step: () => Promise<T>): Promise<T> => {
    const previous = locks.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(step);
    locks.set(key, current);
    try {
      return await current;
    } finally {
      if (locks.get(key) === current) locks.delete(key);
    }
  };

  const prune = async (cutoff: number, inUse: Iterable<string>): Promise<number> => {
    const kept = new Set([...inUse].map((url) => `${mirrorName(url)}.git`));
    const names = await readdir(options.dir).catch(() => [] as string[]);
    let deleted = 0;
    for (const name of names) {
      // Only folders named as mirrorName names them: nothing else in the folder is ours to delete.
      if (!/-[0-9a-f]{10}\.git$/.test(name) || kept.has(name)) continue;
      const key = name.slice(0, -".git".length);
      // Behind the mirror's own queue: a fetch asked for meanwhile waits, then starts afresh.
      if (locks.has(key)) continue;
      const path = join(options.dir, name);
      const gone = await oneAtATimeKey(key, async () => {
        const info = await stat(path).catch(() => undefined);
        if (info === undefined || info.mtimeMs >= cutoff) return false;
        await rm(path, { recursive: true, force: true });
        return true;
      });
      if (gone) deleted++;
    }
    return deleted;
  };

  return {
    prune,
    fetchCommit: (request) => oneAtATime(request.url, () => fetchCommit(request)),
    async remoteHeads(url) {
      const git = await openMirror(join(options.dir, `${mirrorName(url)}.git`), gitEnv);
      return listRemoteHeads(git, url, redactUrl(url));
    },
    history(url) {
      const path = join(options.dir, `${mirrorName(url)}.git`);
      let opened: Promise<SimpleGit> | undefined;
      const git = () => (opened ??= openMirror(path, gitEnv));
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

async function openMirror(path: string, environment: GitProcessEnvironment): Promise<SimpleGit> {
  await mkdir(path, { recursive: true });
  // GIT_CONFIG_COUNT is how the token reaches git without argv or files; simple-git wants that said explicitly.
  const git = simpleGit({
    baseDir: path,
    allowEnvironment: environment.allow,
    unsafe: environment.unsafe,
  }).env(environment.env);
  const isRepo = await git.revparse(["--is-bare-repository"]).then((out) => out.trim() === "true", () => false);
  if (!isRepo) await git.init(true);
  // Last used now: retention deletes mirrors by this (prune).
  const now = new Date();
  await utimes(path, now, now);
  return git;
}

/** A clone URL the mirror will not fetch, refused before git runs. */
function refuseSource(url: string, allowed: { scope: string | undefined; allowFile: boolean }): void {
  if (allowed.scope !== undefined && url.startsWith(allowed.scope)) return;
  const parsed = parseSourceUrl(url);
  if ("problem" in parsed) {
    throw new BatchshipError("GIT", `Could not fetch from ${redactUrl(url)}: the clone URL ${parsed.problem}`, {
      hint: "fix source.url in the pipeline file",
    });
  }
  if (parsed.transport === "file" && !allowed.allowFile) {
    throw new BatchshipError("GIT", `Could not fetch from ${redactUrl(url)}: file:// sources are not allowed on this service`, {
      hint: "set BATCHSHIP_ALLOW_FILE_SOURCES=1 where the service may read this machine's repositories, or use an https or ssh URL",
    });
  }
}

/** Git's settings batchship sets: never prompt, and the token as a header for the GitHub host only. */
function ownGitSettings(token: string | undefined, scope: string): Record<string, string> {
  const env: Record<string, string> = {};
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
