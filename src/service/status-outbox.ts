import type { NewStatusReport, Store } from "../store/index.js";
import { commitStatusFor, type StatusMoment } from "./status-text.js";

type ReleaseRef = { id: string; pipeline: string; repository: string; commit: string };

export interface StatusOutbox {
  /** Queues the commit status for this moment of the release. Call inside the transaction that records the moment. */
  queue(release: ReleaseRef, moment: StatusMoment, now: number): void;
  /** The commit status for this moment, for a writer that queues it itself; undefined when statuses are off. */
  reportFor(release: ReleaseRef, moment: StatusMoment): NewStatusReport | undefined;
}

/** Commit statuses go through the store's outbox; without a GitHub token nothing is queued. */
export function createStatusOutbox(store: Store, options: { enabled: boolean; targetUrl: (releaseId: string) => string }): StatusOutbox {
  const reportFor = (release: ReleaseRef, moment: StatusMoment): NewStatusReport | undefined => {
    if (!options.enabled) return undefined;
    const { state, description } = commitStatusFor(moment);
    return {
      releaseId: release.id,
      repository: release.repository,
      commit: release.commit,
      context: `batchship/${release.pipeline}`,
      state,
      description,
      targetUrl: options.targetUrl(release.id),
    };
  };
  return {
    queue(release, moment, now) {
      const report = reportFor(release, moment);
      if (report) store.statusReports.enqueue(report, now);
    },
    reportFor,
  };
}
