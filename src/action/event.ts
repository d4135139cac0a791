import { readFile } from "node:fs/promises";

/** Facts from the workflow run for the summary; all of it untrusted text. */
export interface RunFacts {
  commitUrl?: string;
  commitMessage?: string;
}

/** GITHUB_EVENT_PATH, GITHUB_SERVER_URL, GITHUB_REPOSITORY. */
type RunEnv = Readonly<Record<string, string | undefined>>;

/**
 * The commit's GitHub page and, for a push, the head commit's message. Only for show: nothing
 * here decides what is released, and a missing or odd event file just leaves them out.
 */
export async function readRunFacts(commit: string | undefined, env: RunEnv = process.env): Promise<RunFacts> {
  const facts: RunFacts = {};
  const server = env["GITHUB_SERVER_URL"] ?? "";
  const repository = env["GITHUB_REPOSITORY"] ?? "";
  if (commit !== undefined && /^https:\/\/[\w.-]+(:\d+)?$/.test(server) && /^[\w.-]+\/[\w.-]+$/.test(repository)) {
    facts.commitUrl = `${server}/${repository}/commit/${commit}`;
  }
  const message = commit === undefined ? undefined : await headCommitMessage(env["GITHUB_EVENT_PATH"], commit);
  if (message !== undefined) facts.commitMessage = message;
  return facts;
}

async function headCommitMessage(path: string | undefined, commit: string): Promise<string | undefined> {
  if (!path) return undefined;
  try {
    const event: unknown = JSON.parse(await readFile(path, "utf8"));
    const head = (event as { head_commit?: { id?: unknown; message?: unknown } } | null)?.head_commit;
    return head?.id === commit && typeof head.message === "string" ? head.message : undefined;
  } catch {
    return undefined;
  }
}
