import { randomBytes } from "node:crypto";
import type { Backend, JobDefinitionRevision } from "../src/release/ports.js";
import { createEngineContext } from "../src/release/context.js";
import { releaseIdFor } from "../src/release/release-id.js";
import { runCanary, type CanaryResult } from "../src/canary/run-canary.js";
import type { PipelineSpec } from "../src/spec/schema.js";
import type { Emulator, RecordedCall } from "../test/emulator/index.js";
import { virtualTime } from "../test/support/virtual-time.js";
import { batchCallsIn } from "./batch-calls.js";

/** The engine's real default; only the virtual clock makes it instant. */
export const CANARY_INTERVAL_MS = 15_000;
// Distinct from the canary interval, so a retry pause can never be mistaken for a poll.
const RETRY_DELAY_MS = 1_000;

export interface BatchshipMeasurement {
  result: CanaryResult;
  /** Batch calls before the first poll: find the job by name, submit it, describe it once. */
  submission: RecordedCall[];
  /**
   * Batch calls of each poll, in order. The last window also holds whatever runCanary does after
   * the follow ends: nothing for a passing canary, which is the only kind the bench counts.
   */
  polls: RecordedCall[][];
  /** Every Batch call runCanary made, from the first find to the verdict. */
  whole: RecordedCall[];
}

/**
 * Runs batchship's real canary stage on one queue and splits the Batch calls it made into the
 * submission and one window per poll. The follow loop sleeps `canaryIntervalMs` exactly once
 * before each poll, so each such sleep opens a new window; everything is awaited in sequence,
 * so no call can land in the wrong one.
 */
export async function measureBatchshipCanary(
  emulator: Emulator,
  backend: Backend,
  spec: PipelineSpec,
  candidate: JobDefinitionRevision,
): Promise<BatchshipMeasurement> {
  const time = virtualTime();
  const boundaries: number[] = [];
  const ctx = createEngineContext(backend, {
    clock: time.clock,
    sleep: async (ms) => {
      if (ms === CANARY_INTERVAL_MS) boundaries.push(emulator.calls.length);
      await time.sleep(ms);
    },
    polling: { canaryIntervalMs: CANARY_INTERVAL_MS, retryDelayMs: RETRY_DELAY_MS },
  });

  const commit = randomBytes(20).toString("hex");
  const start = emulator.calls.length;
  const result = await runCanary(ctx, { spec, releaseId: releaseIdFor(spec.name, commit), commit, candidate });
  const end = emulator.calls.length;

  const edges = [start, ...boundaries, end];
  const windows = edges.slice(1).map((to, i) => batchCallsIn(emulator.calls.slice(edges[i], to)));
  return {
    result,
    submission: windows[0] ?? [],
    polls: windows.slice(1),
    whole: batchCallsIn(emulator.calls.slice(start, end)),
  };
}
