import { randomBytes } from "node:crypto";
import { createAwsBackend } from "../../src/aws/index.js";
import { createEngineContext, type EngineContext } from "../../src/release/context.js";
import type { ReleaseEvent } from "../../src/release/events.js";
import { startEmulator, testClientConfig, createFixtures, type Emulator } from "../emulator/index.js";
import { virtualTime } from "../support/virtual-time.js";

export interface EngineHarness {
  emulator: Emulator;
  /** A fresh engine on a virtual clock; `events` collects what it reported. */
  engine(): { ctx: EngineContext; events: ReleaseEvent[] };
  /** Operations forwarded to AWS since `mark()`, by name. */
  mark(): () => (operation: string) => number;
  close(): Promise<void>;
}

export async function startEngineHarness(jobQueues: string[], codebuildProject = "etl-image"): Promise<EngineHarness> {
  const emulator = await startEmulator();
  await createFixtures(emulator, { jobQueues, codebuildProject });
  const backend = createAwsBackend(testClientConfig(emulator));
  return {
    emulator,
    engine() {
      const events: ReleaseEvent[] = [];
      const time = virtualTime();
      const ctx = createEngineContext(backend, {
        clock: time.clock,
        sleep: time.sleep,
        observe: (e) => events.push(e),
        polling: { buildIntervalMs: 10_000, canaryIntervalMs: 15_000, retryDelayMs: 1_000 },
      });
      return { ctx, events };
    },
    mark() {
      const start = emulator.calls.length;
      return () => (operation) =>
        emulator.calls.slice(start).filter((c) => c.operation === operation && c.forwarded).length;
    },
    close: () => emulator.close(),
  };
}

export function randomSha(): string {
  return randomBytes(20).toString("hex");
}
