import { BatchshipError } from "../errors.js";
import { promoteRelease } from "../release/promote-release.js";
import { rollbackPipeline } from "../release/rollback.js";
import type { ApiActions } from "../server/api-routes.js";
import { HttpError } from "../server/http-error.js";
import { PipelineSpec } from "../spec/schema.js";
import { engineContextFor } from "./engine-context-for.js";
import { releaseDetailView, releaseSummaryView } from "./release-view.js";
import type { ServiceState } from "./service-state.js";

/** The JSON API over the store and the engine. Promote and rollback run in the request: a few AWS calls. */
export function createApiActions(state: ServiceState, links: (id: string) => string): ApiActions {
  const { store, logger } = state;
  // GitOps specs get their ledger: promote and rollback are record commits first.
  const engineFor = (spec: PipelineSpec) => engineContextFor(state, spec);

  return {
    listReleases: (options) => store.releases.list(options).map((r) => releaseSummaryView(r, links)),
    getRelease(id) {
      const release = store.releases.get(id);
      return release === undefined ? undefined : releaseDetailView(release, store.stageEvents.list(id), links);
    },
    async promote(id) {
      const release = store.releases.get(id);
      if (release === undefined) throw new HttpError(404, "RELEASE_NOT_FOUND", `No release ${id}`);
      if (release.status !== "awaiting-promotion" && release.status !== "promoted") {
        throw new HttpError(409, "NOT_PROMOTABLE", `Cannot promote ${id}: it is ${release.status}, not awaiting promotion`);
      }
      const spec = PipelineSpec.parse(JSON.parse(release.specJson));
      const result = await promoteRelease(await engineFor(spec), spec, release.commit);
      const now = state.clock();
      store.transaction(() => {
        store.releases.finish(id, { status: "promoted", production: result.production }, now);
        store.stageEvents.append(id, now, { type: "promoted", arn: result.production.arn, revision: result.production.revision, reused: result.alreadyPromoted, by: "api" });
        if (release.status !== "promoted") {
          state.statuses.queue(release, { kind: "promoted", jobDefinition: spec.jobDefinition.name, revision: result.production.revision }, now);
        }
      });
      if (release.status !== "promoted") state.metrics.releases.inc({ status: "promoted" });
      logger.info("release promoted through the API", { releaseId: id, pipeline: release.pipeline, production: result.production.arn, alreadyPromoted: result.alreadyPromoted });
      return result;
    },
    async rollback(name) {
      const spec = state.pipelines().specs.get(name);
      if (spec === undefined) throw new HttpError(404, "PIPELINE_NOT_FOUND", `No pipeline ${name}`);
      try {
        const result = await rollbackPipeline(await engineFor(spec), spec);
        logger.info("pipeline rolled back through the API", { pipeline: name, from: result.from.arn, to: result.to.arn });
        return result;
      } catch (error) {
        if (error instanceof BatchshipError) logger.warn("rollback refused", { pipeline: name, errorCode: error.code, error: error.message });
        throw error;
      }
    },
  };
}
