import type { PostCommitStatus } from "../github/commit-status-client.js";
import type { ServiceState } from "./service-state.js";

export interface ReportLoop {
  start(): void;
  stop(): Promise<void>;
}

const BATCH = 20;
const MAX_ATTEMPTS = 15;
const MAX_BACKOFF_STEPS = 6;

/**
 * Sends the outbox's commit statuses to GitHub, oldest first. A failure that may pass (a 5xx,
 * a timeout, a rate limit, no answer) is retried with exponential back-off, at least as late
 * as GitHub's `retry-after` or rate-limit reset asks, and given up after MAX_ATTEMPTS; one
 * that will not (see `refusal`) is given up at once. It runs beside the workers and never
 * waits on them nor they on it: a GitHub outage delays statuses, never releases.
 */
export function createReportLoop(state: Pick<ServiceState, "store" | "logger" | "metrics" | "clock">, post: PostCommitStatus, options: { retryMs: number; tickMs: number }): ReportLoop {
  const { store, logger, metrics } = state;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  let stopped = false;

  const tick = async (): Promise<void> => {
    for (const report of store.statusReports.takeDue(state.clock(), BATCH)) {
      if (stopped) return;
      const log = logger.child({ releaseId: report.releaseId, context: report.context });
      try {
        await post({
          repository: report.repository,
          sha: report.commit,
          state: report.state,
          context: report.context,
          description: report.description,
          targetUrl: report.targetUrl,
        });
        store.statusReports.markSent(report.id, state.clock());
        metrics.statusReports.inc({ result: "sent" });
        log.debug("commit status sent", { state: report.state });
      } catch (error) {
        const reason = describe(error);
        const attempts = report.attempts + 1;
        const refused = refusal(error);
        if (refused !== undefined) {
          store.statusReports.markAbandoned(report.id, reason, state.clock());
          metrics.statusReports.inc({ result: "refused" });
          log.error("commit status refused by GitHub; not retrying", { state: report.state, attempts, error: reason, reason: refused });
          continue;
        }
        if (attempts >= MAX_ATTEMPTS) {
          store.statusReports.markAbandoned(report.id, reason, state.clock());
          metrics.statusReports.inc({ result: "abandoned" });
          log.error("commit status abandoned", { state: report.state, attempts, error: reason });
          continue;
        }
        const delay = Math.max(options.retryMs * 2 ** Math.min(attempts - 1, MAX_BACKOFF_STEPS), askedDelayMs(error, state.clock()));
        store.statusReports.markFailed(report.id, reason, state.clock() + delay);
        metrics.statusReports.inc({ result: "failed" });
        log.warn("commit status failed; will retry", { state: report.state, attempts, retryInMs: delay, error: reason });
      }
    }
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = tick()
        .catch((error: unknown) => logger.error("status report loop failed", { error: describe(error) }))
        .finally(schedule);
    }, options.tickMs);
  };

  return {
    start: schedule,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}

interface HttpFailure {
  status?: unknown;
  response?: { headers?: Record<string, string | number | undefined> };
}

/**
 * Why GitHub's answer means a retry cannot help, or undefined when it may: a 4xx other than
 * 408 (timed out) and 429 (rate limited), where a 403 that is a rate limit (no requests left,
 * or a `retry-after`: GitHub's secondary limits) is retried too. A 404 is a repository gone or
 * out of the token's reach, a 422 a status GitHub will not take, a 401 a token revoked.
 */
export function refusal(error: unknown): string | undefined {
  const { status, response } = (typeof error === "object" && error !== null ? error : {}) as HttpFailure;
  if (typeof status !== "number" || status < 400 || status >= 500 || status === 408 || status === 429) return undefined;
  const headers = response?.headers ?? {};
  if (status === 403 && (String(headers["x-ratelimit-remaining"]) === "0" || headers["retry-after"] !== undefined)) return undefined;
  const why: Record<number, string> = {
    401: "the token is not accepted: check BATCHSHIP_GITHUB_TOKEN",
    403: "the token may not set statuses on this repository",
    404: "the repository or commit is gone, or out of the token's reach",
    422: "GitHub does not take this status (too many statuses for the commit, or an invalid field)",
  };
  return why[status] ?? `GitHub answered ${status}`;
}

/** How long GitHub asked to wait before the next request (`retry-after` seconds, or the rate-limit reset), in ms. */
function askedDelayMs(error: unknown, now: number): number {
  const headers = ((typeof error === "object" && error !== null ? error : {}) as HttpFailure).response?.headers ?? {};
  const retryAfter = Number(headers["retry-after"]);
  if (Number.isFinite(retryAfter) && retryAfter > 0) return Math.min(retryAfter * 1000, MAX_ASKED_DELAY_MS);
  const reset = Number(headers["x-ratelimit-reset"]);
  if (String(headers["x-ratelimit-remaining"]) === "0" && Number.isFinite(reset)) return Math.min(Math.max(reset * 1000 - now, 0), MAX_ASKED_DELAY_MS);
  return 0;
}

/** A reset an hour away is GitHub's longest; anything longer is not believed. */
const MAX_ASKED_DELAY_MS = 60 * 60 * 1000;

function describe(error: unknown): string {
  if (error instanceof Error) {
    const status = (error as { status?: unknown }).status;
    return typeof status === "number" ? `HTTP ${status}: ${error.message}` : error.message;
  }
  return String(error);
}
