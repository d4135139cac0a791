import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { BatchshipError } from "../errors.js";
import type {
  LedgerChange,
  LedgerDecision,
  LedgerEntry,
  LedgerLocation,
  LedgerState,
  LedgerView,
  ReleaseLedger,
} from "../release/gitops/ledger.js";
import { formatJson, parseHold, parseRecord } from "../release/gitops/record.js";
import { withDirLock } from "./dir-lock.js";
import { displayUrl, type GitCredentials } from "./git-credentials.js";
import { openLedgerClone, type LedgerClone } from "./ledger-clone.js";
import { recordCommitMessage } from "./record-commit-marker.js";

export interface GitLedgerOptions {
  /** Clone URL (https, ssh, file). */
  repository: string;
  branch: string;
  /** Record path template inside the branch; `{pipeline}` is the pipeline's name. */
  path: string;
  /** Folder for working clones, shared by every batchship process of the machine. */
  cacheDir: string;
  credentials?: GitCredentials;
  /** The environment git runs in (without git's own variables); default: this process's. */
  ambientEnv?: Readonly<Record<string, string | undefined>>;
  author?: { name: string; email: string };
  /** Push attempts when others keep pushing first. */
  pushAttempts?: number;
}

const AUTHOR = { name: "batchship", email: "batchship@users.noreply.github.com" };

/** The hold of `releases/etl.json` lives beside it as `releases/etl.hold.json`. */
export function holdPathFor(recordPath: string): string {
  return recordPath.endsWith(".json") ? `${recordPath.slice(0, -".json".length)}.hold.json` : `${recordPath}.hold.json`;
}

/**
 * The release ledger on a git branch. Every read and write starts from the remote's tip (fetch,
 * hard reset), so the working clone holds no state of its own; a write that loses a push race
 * is decided again on the new tip and retried. Records are one file per pipeline, so two
 * pipelines never conflict and two writers of one pipeline are simply ordered.
 */
export function createGitReleaseLedger(options: GitLedgerOptions): ReleaseLedger {
  const credentials = options.credentials ?? {};
  const attempts = options.pushAttempts ?? 8;
  let opened: Promise<LedgerClone> | undefined;
  const clone = () =>
    (opened ??= openLedgerClone({
      repository: options.repository,
      branch: options.branch,
      cacheDir: options.cacheDir,
      credentials,
      ambientEnv: options.ambientEnv ?? process.env,
      author: options.author ?? AUTHOR,
    }));
  const exclusive = async <T>(work: (c: LedgerClone) => Promise<T>): Promise<T> => {
    const c = await clone();
    return withDirLock(`${c.dir}.lock`, () => work(c));
  };

  const where = (pipeline: string): LedgerLocation => {
    const path = options.path.split("{pipeline}").join(pipeline);
    return { repository: displayUrl(options.repository), branch: options.branch, path, holdPath: holdPathFor(path) };
  };

  return {
    where,
    read: (pipeline) =>
      exclusive(async (c) => {
        const exists = await c.sync();
        return readState(c, where(pipeline), exists);
      }),
    history: (pipeline, limit) =>
      exclusive(async (c) => ((await c.sync()) ? readHistory(c, where(pipeline), limit) : [])),
    async update(pipeline, decide) {
      const at = where(pipeline);
      for (let attempt = 1; attempt <= attempts; attempt++) {
        const outcome = await exclusive((c) => writeOnce(c, at, pipeline, decide));
        if (outcome !== "rejected") return outcome;
        // Someone pushed first: back off a little (with jitter, so racing writers spread out).
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * attempt));
      }
      throw new BatchshipError(
        "ENVIRONMENT",
        `Could not push the release record of ${pipeline} to ${at.repository} ${at.branch}: rejected ${attempts} times`,
        { retryable: true, hint: "others keep writing the releases branch; run the command again" },
      );
    },
  };
}

async function writeOnce(
  c: LedgerClone,
  at: LedgerLocation,
  pipeline: string,
  decide: LedgerDecision,
): Promise<{ state: LedgerState; commit: string | null } | "rejected"> {
  const exists = await c.sync();
  const state = await readState(c, at, exists);
  const view: LedgerView = {
    history: async (limit) => (exists ? readHistory(c, at, limit) : []),
    everRecorded: async (releaseId) => exists && (await recordedIn(c, at, releaseId)),
  };
  const change = await decide(state, view);
  if (change === null) return { state, commit: null };
  await writeChange(c, at, change);
  const changed = await c.step("stage the release record", () => c.git.raw(["status", "--porcelain", "--", at.path, at.holdPath]));
  if (changed.trim() === "") return { state, commit: null };
  await c.step("commit the release record", () =>
    c.git.raw(["commit", "--quiet", "--no-verify", "-m", recordCommitMessage(pipeline, change.subject, change.body)]),
  );
  if ((await c.push()) === "rejected") return "rejected";
  const commit = (await c.step("read the new ledger commit", () => c.git.revparse(["HEAD"]))).trim();
  return { state: await readState(c, at, true), commit };
}

async function writeChange(c: LedgerClone, at: LedgerLocation, change: LedgerChange): Promise<void> {
  if (change.record !== undefined) await writeText(c, at.path, formatJson(change.record));
  if (change.hold === null) await rm(join(c.dir, at.holdPath), { force: true });
  else if (change.hold !== undefined) await writeText(c, at.holdPath, formatJson(change.hold));
  for (const path of [at.path, at.holdPath]) {
    const present = existsSync(join(c.dir, path));
    await c.step("stage the release record", () =>
      c.git.raw(present ? ["add", "--", path] : ["rm", "--cached", "--ignore-unmatch", "--quiet", "--", path]),
    );
  }
}

async function writeText(c: LedgerClone, path: string, text: string): Promise<void> {
  await mkdir(dirname(join(c.dir, path)), { recursive: true });
  await writeFile(join(c.dir, path), text);
}

async function readState(c: LedgerClone, at: LedgerLocation, exists: boolean): Promise<LedgerState> {
  const recordText = await readIfPresent(join(c.dir, at.path));
  const holdText = await readIfPresent(join(c.dir, at.holdPath));
  const where = `${at.path} (${at.repository} ${at.branch})`;
  const record = recordText === undefined ? null : parseRecord(recordText, where);
  const recordCommit =
    record === null || !exists
      ? null
      : (await c.step("read the ledger history", () => c.git.raw(["log", "-1", "--format=%H", "--", at.path]))).trim() || null;
  return { record, recordCommit, hold: holdText === undefined ? null : parseHold(holdText, `${at.holdPath} (${at.repository} ${at.branch})`) };
}

async function readHistory(c: LedgerClone, at: LedgerLocation, limit: number): Promise<LedgerEntry[]> {
  const log = await c.step("read the ledger history", () => c.git.raw(["log", `-n${limit}`, "--format=%H", "HEAD", "--", at.path]));
  const entries: LedgerEntry[] = [];
  for (const commit of log.split("\n").filter(Boolean)) {
    try {
      const text = await c.git.show([`${commit}:${at.path}`]);
      entries.push({ commit, record: parseRecord(text, `${at.path} at ${commit.slice(0, 12)}`) });
    } catch {
      // The file was deleted in this commit, or a hand edit made it unreadable: not a version.
    }
  }
  return entries;
}

async function recordedIn(c: LedgerClone, at: LedgerLocation, releaseId: string): Promise<boolean> {
  const pattern = `"releaseId"[[:space:]]*:[[:space:]]*"${releaseId.replace(/[^A-Za-z0-9_-]/g, "\\$&")}"`;
  const log = await c.step("search the ledger history", () =>
    c.git.raw(["log", "-n1", "--format=%H", "--extended-regexp", `-G${pattern}`, "HEAD", "--", at.path]),
  );
  return log.trim() !== "";
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
