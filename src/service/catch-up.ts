import { releaseIdFor } from "../release/release-id.js";
import { errorFields } from "../server/logger.js";
import type { PipelineSpec } from "../spec/schema.js";
import { branchMatches } from "../spec/templates.js";
import { sourceUrlOf } from "./pipeline-set.js";
import type { ServiceState } from "./service-state.js";

export interface CatchUp {
  /** One round now, then one every interval. */
  start(): void;
  /** Waits for the round in flight; no round starts after. */
  stop(): Promise<void>;
}

/**
 * The level-triggered half of the service: GitHub does not retry a failed delivery, so pushes
 * made while the service was down, answered with a 5xx, or sent to a misconfigured webhook are
 * lost to the edge-triggered half (receive-delivery.ts). On start and every interval this
 * compares each pipeline's tracked branch heads (`git ls-remote` on its source) with the head
 * it saw last and queues the head's release when the branch moved; the queue's own rules decide
 * whether it is new (a release that ran is not run again). A branch seen for the first time
 * only sets the baseline: adding a pipeline, or a first start, releases nothing until it moves.
 * A head whose release the queue superseded before it ever started is queued again: something
 * newer by arrival (but not the head) took its place.
 */
export function createCatchUp(
  state: Pick<ServiceState, "config" | "clock" | "logger" | "metrics" | "store" | "statuses" | "mirrors" | "pipelines">,
  options: { intervalMs: number; wakeWorkers: () => void },
): CatchUp {
  const { store, logger, mirrors } = state;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> = Promise.resolve();
  let stopped = false;

  const catchUpPipeline = (spec: PipelineSpec, cloneUrl: string, heads: ReadonlyMap<string, string>): { queued: string[]; baselines: string[] } => {
    const queued: string[] = [];
    const baselines: string[] = [];
    for (const [branch, head] of heads) {
      if (!branchMatches(spec.source.branches, branch)) continue;
      const now = state.clock();
      const release = {
        id: releaseIdFor(spec.name, head),
        pipeline: spec.name,
        repository: spec.source.repository,
        commit: head,
        branch,
        cloneUrl,
        specJson: JSON.stringify(spec),
        deliveryId: `catch-up-${now}`,
      };
      const wasQueued = store.transaction(() => {
        const seen = store.branchHeads.get(spec.name, branch);
        store.branchHeads.set(spec.name, branch, head, now);
        if (seen === undefined) {
          baselines.push(branch);
          return false;
        }
        const known = store.releases.get(release.id);
        const moved = seen !== head;
        const wanted = known === undefined ? moved : known.status === "superseded" && (moved || known.startedAt === null);
        if (!wanted || !store.releases.enqueue(release, now)) return false;
        state.statuses.queue(release, { kind: "queued" }, now);
        return true;
      });
      if (wasQueued) queued.push(release.id);
    }
    return { queued, baselines };
  };

  const runRound = async (): Promise<void> => {
    // One ls-remote per source, however many pipelines track it.
    const bySource = new Map<string, PipelineSpec[]>();
    for (const spec of state.pipelines.current().specs.values()) {
      const cloneUrl = sourceUrlOf(spec, state.config.githubUrl);
      bySource.set(cloneUrl, [...(bySource.get(cloneUrl) ?? []), spec]);
    }
    for (const [cloneUrl, specs] of bySource) {
      if (stopped) return;
      let heads: ReadonlyMap<string, string>;
      try {
        heads = await mirrors.remoteHeads(cloneUrl);
      } catch (error) {
        // The next round tries again; the webhook path is unaffected.
        for (const spec of specs) logger.warn("could not compare the branch heads of a pipeline", { pipeline: spec.name, ...errorFields(error) });
        continue;
      }
      for (const spec of specs) catchUpSource(spec, cloneUrl, heads);
    }
  };

  const catchUpSource = (spec: PipelineSpec, cloneUrl: string, heads: ReadonlyMap<string, string>): void => {
    try {
      const { queued, baselines } = catchUpPipeline(spec, cloneUrl, heads);
      if (baselines.length > 0) logger.info("branches seen for the first time; their next move is released", { pipeline: spec.name, branches: baselines });
      if (queued.length === 0) return;
      state.metrics.deliveries.inc({ outcome: "caught-up" });
      logger.info("branch moved without a delivery; release queued", { pipeline: spec.name, releases: queued });
      options.wakeWorkers();
    } catch (error) {
      // The store failed for this pipeline (busy past its timeout): the next round tries again.
      logger.warn("could not compare the branch heads of a pipeline", { pipeline: spec.name, ...errorFields(error) });
    }
  };

  const tick = (): void => {
    round = round.then(runRound).finally(() => {
      if (!stopped) timer = setTimeout(tick, options.intervalMs).unref();
    });
  };

  return {
    start: tick,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await round;
    },
  };
}
