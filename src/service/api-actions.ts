import { BatchshipError } from "../errors.js";
import { promoteRelease, type PromoteResult } from "../release/promote-release.js";
import { rollbackPipeline } from "../release/rollback.js";
import { cancelRelease } from "../release/cancel-release.js";
import type { ApiActions } from "../server/api-routes.js";
import { HttpError } from "../server/http-error.js";
import { errorFields } from "../server/logger.js";
import { PipelineSpec } from "../spec/schema.js";
import { engineContextFor } from "./engine-context-for.js";
import { queueRelease } from "./queue-release.js";
import { releaseDetailView, releaseSummaryView } from "./release-view.js";
import type { ServiceState } from "./service-state.js";

/**
 * The JSON API over the store and the engine. Promote and rollback run in the request: a few AWS
 * calls, holding the pipeline. They never wait for it: a pipeline something else holds (the
 * store's pipeline-holds.ts says what may run together) answers 409 PIPELINE_BUSY at once (a
 * double click, a proxy's retry).
 */
export function createApiActions(state: ServiceState & { wakeWorkers(): void; wakeReconciler(): void }, links: (id: string) => string): ApiActions {
  const { store, logger } = state;
  // GitOps specs get their ledger: promote and rollback are record commits first.
  const engineFor = (spec: PipelineSpec) => engineContextFor(state, spec);

  /** Runs `action` holding `pipeline`, or refuses with 409 when something else holds it. */
  const exclusively = async <T>(pipeline: string, holder: string, action: () => Promise<T>): Promise<T> => {
    const hold = store.holds.tryHoldForApi(pipeline, holder);
    if ("heldBy" in hold) {
      logger.info("API action refused: pipeline busy", { pipeline, holder: hold.heldBy, wanted: holder });
      throw new HttpError(409, "PIPELINE_BUSY", `Pipeline ${pipeline} is busy: ${hold.heldBy}; try again when it has finished`);
    }
    try {
      return await action();
    } finally {
      hold.lease.release();
      // Releases and reconciles skipped the pipeline while it was held.
      state.wakeWorkers();
      state.wakeReconciler();
    }
  };

  return {
    listReleases: (options) => store.releases.list(options).map((r) => releaseSummaryView(r, links)),
    getRelease(id) {
      const release = store.releases.get(id);
      return release === undefined ? undefined : releaseDetailView(release, store.stageEvents.list(id), links);
    },
    async promote(id, options = { allowOlder: false }) {
      const found = store.releases.get(id);
      if (found === undefined) throw new HttpError(404, "RELEASE_NOT_FOUND", `No release ${id}`);
      if (found.status !== "awaiting-promotion" && found.status !== "promoted" && found.status !== "promoting") {
        throw new HttpError(409, "NOT_PROMOTABLE", `Cannot promote ${id}: it is ${found.status}, not awaiting promotion`);
      }
      return exclusively(found.pipeline, `release ${id} is being promoted through the API`, () => promoteHeld(id, options.allowOlder));
    },
    async rollback(name) {
      const spec = state.pipelines.current().specs.get(name);
      if (spec === undefined) throw new HttpError(404, "PIPELINE_NOT_FOUND", `No pipeline ${name}`);
      return exclusively(name, "a rollback through the API is in flight", async () => {
        try {
          const result = await rollbackPipeline(await engineFor(spec), spec);
          logger.info("pipeline rolled back through the API", { pipeline: name, from: result.from.arn, to: result.to.arn });
          return result;
        } catch (error) {
          if (error instanceof BatchshipError) logger.warn("rollback refused", { pipeline: name, errorCode: error.code, error: error.message });
          throw error;
        }
      });
    },
    /**
     * Without holding the pipeline: the release's own worker holds it, and the cancel is what
     * makes that worker's run end (`cancelled`, reported as its commit status).
     */
    async cancel(id) {
      const release = store.releases.get(id);
      if (release === undefined) throw new HttpError(404, "RELEASE_NOT_FOUND", `No release ${id}`);
      if (release.status !== "running") {
        throw new HttpError(409, "NOT_RUNNING", `Cannot cancel ${id}: it is ${release.status}, not running`);
      }
      const spec = PipelineSpec.parse(JSON.parse(release.specJson));
      const result = await cancelRelease(await engineFor(spec), spec, release.commit);
      logger.info("release cancelled through the API", { releaseId: id, pipeline: release.pipeline, build: result.build?.id, canaryJobs: result.canary?.stoppedJobs });
      return result;
    },
    async queueRelease(name, request) {
      const { queued, release } = await queueRelease(state, name, request);
      return { queued, release: releaseDetailView(release, store.stageEvents.list(release.id), links) };
    },
    /**
     * Queues a failed or cancelled release again, to run with the engine's retry (as
     * `batchship release --retry`). `failed`/`cancelled` → `queued` is one statement, so of two
     * requests at once only one queues it; the other is refused, as is any other status.
     */
    retry(id) {
      const release = store.releases.get(id);
      if (release === undefined) throw new HttpError(404, "RELEASE_NOT_FOUND", `No release ${id}`);
      const notRetryable = (status: string) =>
        new HttpError(409, "NOT_RETRYABLE", `Cannot retry ${id}: it is ${status}; only a failed or cancelled release is retried`);
      if (release.status !== "failed" && release.status !== "cancelled") throw notRetryable(release.status);
      const now = state.clock();
      const queued = store.transaction(() => {
        if (!store.releases.requeueForRetry(id, now)) return false;
        state.statuses.queue(release, { kind: "queued" }, now);
        store.stageEvents.append(id, now, { type: "retry-requested", by: "api", previous: release.status });
        return true;
      });
      if (!queued) throw notRetryable(store.releases.get(id)?.status ?? "gone");
      state.wakeWorkers();
      logger.info("release queued again through the API (retry)", { releaseId: id, pipeline: release.pipeline, previous: release.status });
      return { releaseId: id, status: "queued", retry: true, previous: release.status };
    },
  };

  /**
   * Promotes with the pipeline held. `awaiting-promotion` → `promoting` is one statement, so only
   * one caller ever takes a release out of `awaiting-promotion`; a promoted release is promoted
   * again idempotently (the engine finds its revision: `alreadyPromoted`).
   */
  async function promoteHeld(id: string, allowOlder: boolean): Promise<PromoteResult> {
    const release = store.releases.get(id);
    if (release === undefined) throw new HttpError(404, "RELEASE_NOT_FOUND", `No release ${id}`);
    const inFlight = () => new HttpError(409, "PROMOTION_IN_PROGRESS", `Release ${id} is already being promoted`);
    if (release.status === "promoting") throw inFlight();
    if (release.status !== "awaiting-promotion" && release.status !== "promoted") {
      throw new HttpError(409, "NOT_PROMOTABLE", `Cannot promote ${id}: it is ${release.status}, not awaiting promotion`);
    }
    const first = release.status === "awaiting-promotion";
    if (first && !store.releases.beginPromotion(id, state.clock())) throw inFlight();
    const spec = PipelineSpec.parse(JSON.parse(release.specJson));
    let result: PromoteResult;
    try {
      // With the mirror's history, an older commit than production's needs allowOlder.
      const ctx = await engineContextFor(state, spec, { history: state.mirrors.history(release.cloneUrl) });
      result = await promoteRelease(ctx, spec, release.commit, { allowOlder });
    } catch (error) {
      // Nothing recorded: it may be promoted again (the engine finds whatever this attempt did in AWS).
      if (first) abandonPromotion(id);
      throw error;
    }
    const now = state.clock();
    try {
      store.transaction(() => {
        const over = result.supersededBy;
        if (over !== undefined) {
          // Registered, then put right: a newer commit promoted at the same moment runs again.
          const by = over.commit === null ? null : (over.releaseId ?? `${release.pipeline}-${over.commit.slice(0, 12)}`);
          store.releases.finish(id, { status: "superseded", supersededBy: by }, now);
          store.stageEvents.append(id, now, { type: "superseded", by: over.commit, reason: over.reason });
          if (first) state.statuses.queue(release, { kind: "superseded", by: over.commit?.slice(0, 12) ?? "?" }, now);
          return;
        }
        store.releases.finish(id, { status: "promoted", production: result.production }, now);
        store.stageEvents.append(id, now, {
          type: "promoted",
          arn: result.production.arn,
          revision: result.production.revision,
          reused: result.alreadyPromoted,
          by: "api",
          ...(result.replaced === null ? {} : { replaced: result.replaced }),
        });
        if (first) {
          state.statuses.queue(release, { kind: "promoted", jobDefinition: spec.jobDefinition.name, revision: result.production.revision }, now);
        }
      });
    } catch (error) {
      // Promoted in AWS, not yet in the store: promoting again records it (the engine finds the revision).
      if (first) abandonPromotion(id);
      throw error;
    }
    if (first) state.metrics.releases.inc({ status: "promoted" });
    logger.info("release promoted through the API", { releaseId: id, pipeline: release.pipeline, production: result.production.arn, alreadyPromoted: result.alreadyPromoted });
    return result;
  }

  function abandonPromotion(id: string): void {
    try {
      store.releases.abandonPromotion(id, state.clock());
    } catch (error) {
      // The store closed under a stopping service: the next start puts it back (workers.start).
      logger.warn("promotion left promoting; it is awaiting promotion again after a restart", { releaseId: id, ...errorFields(error) });
    }
  }
}
