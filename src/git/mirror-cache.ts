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
import { coalescedRuns } from "./coalesced-runs.js";
import { createKnownCommits } from "./known-commits.js";
import { createBuildSourcesMemo } from "./build-sources-memo.js";
import { createAncestryMemo } from "./ancestry-memo.js";
import type { BuildSources } from "../release/content-key.js";

export interface MirrorCache {
  /**
   * Makes sure `commit` is in the bare mirror of `url`, fetching it when absent: first the
   * branch that was pushed, then the commit by sha (a branch may have moved on by now).
   * Returns the mirror's path. A commit this process already found there costs no git; the
   * commits of one source asked for while a fetch runs share the next (one fetch for all their
   * branches).
   */
  fetchCommit(request: { url: string; branch: string; commit: string }): Promise<string>;
  /**
   * The object ids an image is built from at `commit` of the mirror at `path` (readBuildSources).
   * A commit's trees never change, so the releases of one commit with the same context and
   * Dockerfile share one read.
   */
  buildSources(path: string, commit: string, image: { context: string; dockerfile: string }): Promise<BuildSources>;
  /** The history of `url`: branch heads by `git ls-remote`, ancestry in its mirror (a missing commit is fetched by sha). */
  history(url: string): SourceHistory;
  /**
   * Every branch of `url` and the commit it points at now, by a `git ls-remote` that started
   * after the call: the callers asking while one runs share the next.
   */
  remoteHeads(url: string): Promise<ReadonlyMap<string, string>>;
  /**
   * Deletes the mirrors last used before `cutoff` (epoch ms), except those of the URLs in
   * `inUse` and those with a fetch under way; resolves to how many it deleted. Using a mirror
   * marks it used (its folder's mtime). A mirror deleted is fetched again when next needed.
   */
  prune(cutoff: number, inUse: Iterable<string>): Promise<number>;
}

export type GitSourceCall = "fetch" | "ls-remote";

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
  /** Each fetch and ls-remote run against a source (the service counts them in its metrics). */
  onGitCall?: (call: GitSourceCall) => void;
  now?: () => number;
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
  const known = createKnownCommits(options.now);
  const opened = new Map<string, Promise<SimpleGit>>();
  /** Per mirror, the fetch round that has not started yet: every release asking meanwhile joins it. */
  const rounds = new Map<string, FetchRound>();
  const counted = (call: GitSourceCall) => options.onGitCall?.(call);
  const sources = createBuildSourcesMemo();
  const ancestry = createAncestryMemo();

  /**
   * The mirror's git, made bare once per process (again after retention deleted it, or when its
   * folder is gone for any other reason), and marked used now.
   */
  const mirrorAt = async (key: string, reopened = false): Promise<SimpleGit> => {
    const path = join(options.dir, `${key}.git`);
    let git = opened.get(key);
    if (git === undefined) {
      git = openMirror(path, gitEnv);
      opened.set(key, git);
      git.catch(() => opened.delete(key));
    }
    const ready = await git;
    if (reopened) {
      await markUsed(path);
      return ready;
    }
    if (await markUsed(path).then(() => true, () => false)) return ready;
    opened.delete(key);
    known.forget(key);
    return mirrorAt(key, true);
  };

  const fetchCommit = async ({ url, branch, commit }: { url: string; branch: string; commit: string }): Promise<string> => {
    if (!SHA.test(commit)) throw new BatchshipError("USAGE", `Could not fetch commit ${JSON.stringify(commit)}: not a 40-character sha`);
    if (!BRANCH.test(branch)) throw new BatchshipError("USAGE", `Could not fetch branch ${JSON.stringify(branch)}: not a branch name`);
    refuseSource(url, { scope: scopeIsHttp ? scope : undefined, allowFile: options.allowFileSources === true });
    const key = mirrorName(url);
    const path = join(options.dir, `${key}.git`);
    // Most releases of a push are of a commit an earlier one fetched: no git at all.
    if (known.has(key, commit) && (await markUsed(path).then(() => true, () => false))) return path;
    let round = rounds.get(key);
    if (round === undefined) {
      const wanted = new Map<string, Set<string>>();
      const joined: FetchRound = {
        wanted,
        failures: oneAtATimeKey(key, () => {
          if (rounds.get(key) === joined) rounds.delete(key);
          return fetchRound(url, key, wanted);
        }),
      };
      rounds.set(key, joined);
      round = joined;
    }
    const branches = round.wanted.get(commit) ?? new Set<string>();
    round.wanted.set(commit, branches.add(branch));
    const failure = (await round.failures).get(commit);
    if (failure !== undefined) throw failure;
    return path;
  };

  /**
   * One round of fetches for every commit asked for before it started: the commits already
   * there are found by `cat-file`; the rest come with ONE fetch of every branch they were pushed
   * to, and a commit still missing (its branch moved on, or is gone) is fetched by sha.
   */
  const fetchRound = async (url: string, key: string, wanted: Map<string, Set<string>>): Promise<Map<string, BatchshipError>> => {
    const mirror = await mirrorAt(key);
    const failures = new Map<string, BatchshipError>();
    const missing = async (commits: Iterable<string>): Promise<string[]> => {
      const absent: string[] = [];
      for (const commit of commits) {
        if (known.has(key, commit) || (await hasCommit(mirror, commit))) known.add(key, commit);
        else absent.push(commit);
      }
      return absent;
    };
    const fetch = async (refs: string[]): Promise<void> => {
      counted("fetch");
      await mirror.fetch(["--quiet", "--no-tags", "--end-of-options", url, ...refs]);
    };
    let absent = await missing(wanted.keys());
    if (absent.length === 0) return failures;
    const branches = [...new Set(absent.flatMap((commit) => [...(wanted.get(commit) ?? [])]))];
    const refspec = (branch: string) => `+refs/heads/${branch}:refs/heads/${branch}`;
    try {
      await fetch(branches.map(refspec));
    } catch {
      // One branch gone or force-pushed away fails the whole fetch: each branch on its own, then.
      if (branches.length > 1) for (const branch of branches) await fetch([refspec(branch)]).catch(() => undefined);
    }
    absent = await missing(absent);
    for (const commit of absent) {
      const where = `${commit.slice(0, 12)} from ${redactUrl(url)}`;
      try {
        await fetch([commit]);
      } catch (error) {
        failures.set(
          commit,
          new BatchshipError("GIT", `Could not fetch ${where}: ${firstLine(error, options.token)}`, {
            retryable: true,
            hint: "check source.url (or the repository's access for BATCHSHIP_GITHUB_TOKEN)",
          }),
        );
        continue;
      }
      if ((await missing([commit])).length > 0) failures.set(commit, new BatchshipError("GIT", `Could not fetch ${where}: the commit is not in the repository`));
    }
    return failures;
  };

  /** Branch heads by `git ls-remote`; callers asking while one runs share the next. */
  const remoteHeads = coalescedRuns(async (url: string): Promise<ReadonlyMap<string, string>> => {
    const git = await mirrorAt(mirrorName(url));
    counted("ls-remote");
    return listRemoteHeads(git, url, redactUrl(url));
  });

  // One fetch per mirror at a time: two git processes writing one bare repository race on its refs.
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
        // Forgotten first: from now on a release of this source checks and fetches again.
        known.forget(key);
        opened.delete(key);
        await rm(path, { recursive: true, force: true });
        return true;
      });
      if (gone) deleted++;
    }
    return deleted;
  };

  return {
    prune,
    fetchCommit,
    remoteHeads,
    buildSources: sources.read,
    history(url) {
      const key = mirrorName(url);
      const fetchSha = (commit: string) =>
        oneAtATimeKey(key, async () => {
          const mirror = await mirrorAt(key);
          if (!(await hasCommit(mirror, commit))) {
            counted("fetch");
            await mirror.fetch(["--quiet", "--no-tags", "--end-of-options", url, commit]);
          }
        });
      let history: SourceHistory | undefined;
      const inMirror = async () => (history ??= sourceHistory(await mirrorAt(key), url, { ensure: fetchSha, known: (commit) => known.has(key, commit) }));
      return {
        // The heads every release of this source asks for at once come from one ls-remote.
        async headOf(branch) {
          try {
            return (await remoteHeads(url)).get(branch) ?? null;
          } catch {
            return undefined;
          }
        },
        // Ancestry never changes: the releases of one commit judged against one production commit share the answer.
        contains: (descendant, ancestor) => ancestry.ask(key, descendant, ancestor, async () => (await inMirror()).contains(descendant, ancestor)),
      };
    },
  };
}

interface FetchRound {
  /** Each commit asked for, with the branches it was pushed to. */
  wanted: Map<string, Set<string>>;
  /** The commits the round could not fetch, with why. */
  failures: Promise<Map<string, BatchshipError>>;
}

/** Last used now: retention deletes mirrors by this (prune). */
async function markUsed(path: string): Promise<void> {
  const now = new Date();
  await utimes(path, now, now);
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
