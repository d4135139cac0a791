import type { EngineContext } from "./context.js";
import type { StageName } from "./events.js";
import { ReleaseInterrupted } from "./ports.js";
import type { StageRecord } from "./result.js";

/**
 * Runs a stage, timing it and announcing its start and end. A stage stopped by the caller
 * (`ReleaseInterrupted`) ends `interrupted`, not `failed`: nothing went wrong in it.
 */
export async function timed<T>(
  ctx: EngineContext,
  records: StageRecord[],
  stage: StageName,
  run: () => Promise<{ value: T; reused?: boolean; detail?: string }>,
): Promise<T> {
  const startedAt = ctx.clock.now();
  ctx.observe({ type: "stage-started", stage });
  const finish = (outcome: StageRecord["outcome"], detail?: string) => {
    const record: StageRecord = { stage, startedAt, durationMs: ctx.clock.now() - startedAt, outcome };
    if (detail !== undefined) record.detail = detail;
    records.push(record);
    ctx.observe({ type: "stage-finished", ...record });
  };
  try {
    const { value, reused, detail } = await run();
    finish(reused ? "reused" : "done", detail);
    return value;
  } catch (error) {
    finish(error instanceof ReleaseInterrupted ? "interrupted" : "failed", error instanceof Error ? error.message : String(error));
    throw error;
  }
}
