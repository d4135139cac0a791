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
 * Sends the outbox's commit statuses to GitHub, oldest first, each with exponential back-off
 * after a failure. It runs beside the workers and never waits on them nor they on it: a GitHub
 * outage delays statuses, never releases.
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
        if (attempts >= MAX_ATTEMPTS) {
          store.statusReports.markAbandoned(report.id, reason, state.clock());
          metrics.statusReports.inc({ result: "abandoned" });
          log.error("commit status abandoned", { state: report.state, attempts, error: reason });
          continue;
        }
        const delay = options.retryMs * 2 ** Math.min(attempts - 1, MAX_BACKOFF_STEPS);
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

function describe(error: unknown): string {
  if (error instanceof Error) {
    const status = (error as { status?: unknown }).status;
    return typeof status === "number" ? `HTTP ${status}: ${error.message}` : error.message;
  }
  return String(error);
}
