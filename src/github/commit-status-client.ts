import { Octokit } from "@octokit/rest";
import type { CommitState } from "../store/types.js";

export interface CommitStatus {
  /** owner/name */
  repository: string;
  sha: string;
  state: CommitState;
  context: string;
  description: string;
  /** Where the status links to; empty for none. */
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
      ...(linkable(status.targetUrl) ? { target_url: status.targetUrl } : {}),
      request: { signal: AbortSignal.timeout(options.timeoutMs) },
    });
  };
}

/**
 * A status links only to a page its readers can open: never to this machine (a service without
 * a public URL knows itself only as localhost), and only over http(s).
 */
export function linkable(targetUrl: string): boolean {
  let url: URL;
  try {
    url = new URL(targetUrl);
  } catch {
    return false;
  }
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const loopback = host === "localhost" || host.endsWith(".localhost") || /^127\./.test(host) || host === "::1" || host === "0.0.0.0";
  return (url.protocol === "https:" || url.protocol === "http:") && !loopback;
}

function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
