import type { Store } from "../store/index.js";
import { commitStatusFor, type StatusMoment } from "./status-text.js";

export interface StatusOutbox {
  /** Queues the commit status for this moment of the release. Call inside the transaction that records the moment. */
  queue(release: { id: string; pipeline: string; repository: string; commit: string }, moment: StatusMoment, now: number): void;
}

/** Commit statuses go through the store's outbox; without a GitHub token nothing is queued. */
export function createStatusOutbox(store: Store, options: { enabled: boolean; targetUrl: (releaseId: string) => string }): StatusOutbox {
  return {
    queue(release, moment, now) {
      if (!options.enabled) return;
      const { state, description } = commitStatusFor(moment);
      store.statusReports.enqueue(
        {
          releaseId: release.id,
          repository: release.repository,
          commit: release.commit,
          context: `batchship/${release.pipeline}`,
          state,
          description,
          targetUrl: options.targetUrl(release.id),
        },
        now,
      );
    },
  };
}
