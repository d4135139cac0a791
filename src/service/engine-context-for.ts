import { backendAtRepository } from "../backend.js";
import { createEngineContext, type EngineContext } from "../release/context.js";
import type { ReleaseObserver } from "../release/events.js";
import type { SourceHistory } from "../release/ports.js";
import type { PipelineSpec } from "../spec/schema.js";
import type { ServiceState } from "./service-state.js";
import { onPollBeat } from "./poll-beat.js";
import { abortableSleep, guardBackend } from "./shutdown-guard.js";

/**
 * The one way the service builds an engine context: the shared backend (stopped between calls
 * on shutdown when a signal is given), the configured polls (with an events queue: its changes,
 * and the safety-net interval between polls), and for a GitOps spec its ledger —
 * without which the engine refuses to promote, roll back or reconcile it. A release passes the
 * mirror its commit is in: a backend that builds on this machine builds from there.
 */
export async function engineContextFor(
  state: Pick<ServiceState, "config" | "clock" | "backends" | "ledgerFor" | "changes">,
  spec: PipelineSpec,
  options: { signal?: AbortSignal; observe?: ReleaseObserver; repositoryDir?: string; history?: SourceHistory } = {},
): Promise<EngineContext> {
  const poll = state.config.pollIntervalMs;
  const ledger = await state.ledgerFor(spec);
  const shared = state.backends.for(spec);
  const backend = options.repositoryDir === undefined ? shared : backendAtRepository(shared, options.repositoryDir);
  return createEngineContext(options.signal === undefined ? backend : guardBackend(backend, options.signal), {
    ...(options.signal === undefined ? {} : { sleep: onPollBeat(abortableSleep(options.signal), state.clock) }),
    ...(options.observe === undefined ? {} : { observe: options.observe }),
    polling: {
      buildIntervalMs: poll,
      canaryIntervalMs: poll,
      retryDelayMs: Math.min(2_000, poll),
      safetyNetIntervalMs: state.config.eventsSafetyNetMs,
      changeSettleMs: Math.min(1_000, poll),
    },
    ...(state.changes === undefined ? {} : { changes: state.changes }),
    ...(ledger === undefined ? {} : { ledger }),
    ...(options.history === undefined ? {} : { history: options.history }),
  });
}
