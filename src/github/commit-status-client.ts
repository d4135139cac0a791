import { Octokit } from "@octokit/rest";
import type { CommitState } from "../store/types.js";

export interface CommitStatus {
  /** owner/name */
  repository: string;
  sha: string;
  state: CommitState;
  context: string;
  description: string;
  targetUrl: string;
}

export type PostCommitStatus = (status: CommitStatus) => Promise<void>;

const DESCRIPTION_LIMIT = 140;

/**
 * Posts one commit status (`POST /repos/{owner}/{repo}/statuses/{sha}`). No retries here: the
 * service's outbox retries with its own back-off and survives restarts.
 */
export function createCommitStatusClient(options: { token: string; baseUrl: string; timeoutMs: number; userAgent: string }): PostCommitStatus {
  const octokit = new Octokit({
    auth: options.token,
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    userAgent: options.userAgent,
    // Octokit logs failed requests itself; the service logs them once, redacted.
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  return async (status) => {
    const [owner = "", repo = ""] = status.repository.split("/");
    await octokit.rest.repos.createCommitStatus({
      owner,
      repo,
      sha: status.sha,
      state: status.state,
      context: status.context,
      description: truncate(status.description, DESCRIPTION_LIMIT),
      target_url: status.targetUrl,
      request: { signal: AbortSignal.timeout(options.timeoutMs) },
    });
  };
}

function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
