import { createAwsBackend } from "../../src/aws/index.js";
import { createFixtures, startEmulator, testClientConfig, type Emulator } from "../emulator/index.js";

export const QUEUE = "canary";
export const FALLBACK_QUEUE = "canary-fallback";
export const PROJECT = "etl-build";

export interface AwsTestEnv {
  emu: Emulator;
  backend: ReturnType<typeof createAwsBackend>;
  close(): Promise<void>;
}

/** One emulator per test file, with the queues and CodeBuild project a pipeline expects. */
export async function startAwsTestEnv(): Promise<AwsTestEnv> {
  const emu = await startEmulator();
  try {
    await createFixtures(emu, { jobQueues: [QUEUE, FALLBACK_QUEUE], codebuildProject: PROJECT });
    return { emu, backend: createAwsBackend(testClientConfig(emu)), close: () => emu.close() };
  } catch (error) {
    await emu.close();
    throw error;
  }
}

/** Polls until `check` returns a value: moto runs jobs on its own threads. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
