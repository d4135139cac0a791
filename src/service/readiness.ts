import { basename } from "node:path";
import type { StoreHealth } from "../store/index.js";
import type { PipelineSet } from "./pipeline-set.js";
import type { UnrecordedReconcile } from "./reconciler.js";

export interface Readiness {
  ok: boolean;
  /** Each must hold for the service to be ready. */
  checks: Record<string, boolean>;
  /** For operators; they do not fail readiness (failing it would also stop the config push that fixes a file). */
  warnings: string[];
}

/**
 * What `/readyz` says. Answered from what is already known (the store's health is asked for on
 * its own thread, see open-store.ts), so probes cost the request thread nothing. No absolute
 * paths: the endpoint is on the public port.
 */
export function readiness(input: {
  store: StoreHealth;
  pipelines: PipelineSet;
  accepting: boolean;
  configPull?: { since: number; attempts: number } | undefined;
  /** Since when reading an events queue has failed (undefined: they work, or there are none). */
  eventsFailingSince?: number | undefined;
  /** Reconciles that ended but whose end the store has not taken yet: each holds its pipeline. */
  unrecordedReconciles?: readonly UnrecordedReconcile[];
}): Readiness {
  const { store, pipelines } = input;
  const checks = {
    storeWriter: store.writer,
    storeWritable: store.writable,
    // Without it the writer checkpoints only past 100 MB of WAL, on the thread that answers deliveries.
    storeCheckpointer: store.checkpointer,
    pipelinesLoaded: pipelines.loadedAt > 0,
    accepting: input.accepting,
  };
  const warnings = [
    ...(store.checkpointer ? [] : ["the store's checkpoint thread died: WAL checkpoints wait for 100 MB of WAL, on the delivery writer's thread; restart the service"]),
    ...(pipelines.specs.size === 0 ? ["no pipelines are loaded: the pipelines folder has no valid pipeline file, so every push is ignored"] : []),
    ...pipelines.kept.map((k) => `${basename(k.file)} has problems; pipeline ${k.pipeline} runs its last good copy`),
    ...(input.configPull === undefined
      ? []
      : [`pulling the config checkout has failed ${input.configPull.attempts} times since ${new Date(input.configPull.since).toISOString()}; retrying, and serving the pipelines as last loaded`]),
    ...(input.eventsFailingSince === undefined
      ? []
      : [`reading an events queue has failed since ${new Date(input.eventsFailingSince).toISOString()}; retrying, and polling builds and canaries at the poll interval meanwhile`]),
    ...(input.unrecordedReconciles ?? []).map(
      (r) =>
        // The store's error stays in the log ("could not record the reconcile's end"): it may name a path.
        `reconcile ${r.id} of pipeline ${r.pipeline} ended (${r.ending}) but recording its end has failed ${r.failures} times since ${new Date(r.since).toISOString()}; retrying, and pipeline ${r.pipeline} waits for it`,
    ),
  ];
  return { ok: Object.values(checks).every(Boolean), checks, warnings };
}
