import type { ReleaseEvent, ReleaseObserver } from "../release/events.js";
import type { Logger } from "../server/logger.js";
import type { ServiceState } from "./service-state.js";

/**
 * The engine's events, as the service keeps them: each on the release's timeline (except
 * canary progress, which only updates the summary), its outcome facts on the release row for
 * the API, stage durations in the metrics, and one log line each. The store's rows are written
 * at the end of the event loop's turn (`store.batched`), in the order the events came.
 */
export function recordEvents(state: Pick<ServiceState, "store" | "metrics" | "clock">, releaseId: string, log: Logger): ReleaseObserver {
  const { store, metrics } = state;
  const write = (event: ReleaseEvent, now: number): void => {
    if (event.type !== "canary-progress") store.stageEvents.append(releaseId, now, event);
    switch (event.type) {
      case "stage-started":
        store.releases.setStage(releaseId, event.stage, now);
        break;
      case "build-started":
        store.releases.recordFacts(releaseId, { build_id: event.buildId }, now);
        break;
      case "image-resolved":
        store.releases.recordFacts(releaseId, { image_uri: event.uri, image_digest: event.digest }, now);
        break;
      case "image-reused":
        store.releases.recordFacts(releaseId, { image_key: event.key, image_reused_from: event.tag }, now);
        break;
      case "candidate-registered":
        store.releases.recordFacts(releaseId, { candidate_arn: event.arn }, now);
        break;
      case "canary-submitted":
        store.releases.recordFacts(releaseId, { canary_job_id: event.jobId }, now);
        break;
      case "canary-progress":
        store.releases.recordFacts(releaseId, { canary_json: JSON.stringify({ jobId: event.jobId, size: event.size, summary: event.counts }) }, now);
        break;
      default:
        break;
    }
  };
  return (event: ReleaseEvent) => {
    const now = state.clock();
    if (event.type === "stage-finished") metrics.stageDuration.observe({ stage: event.stage, outcome: event.outcome }, event.durationMs / 1000);
    // Batched with the other releases' events of this turn: a poll beat over 1,000 canaries is
    // one commit, not 1,000 (each an fsync with --store-sync full) on the event loop.
    store.batched(() => write(event, now)).catch((error: unknown) => {
      // The store is for the API and metrics; the engine's state is in AWS. Never fail a release for it.
      log.warn("could not record a release event", { event: event.type, error: error instanceof Error ? error.message : String(error) });
    });
    if (event.type === "canary-progress") log.debug("release event", { event: event.type, summary: event.counts });
    else if (event.type === "warning") log.warn("release warning", { message: event.message });
    else log.info("release event", { ...event, event: event.type, type: undefined });
  };
}
