import { isBatchshipError } from "../errors.js";
import type { EngineContext } from "./context.js";

/**
 * Exactly-once creation for AWS calls without an idempotency token (RegisterJobDefinition,
 * SubmitJob). Look first; create only when nothing is found; after a retryable failure look
 * again before creating again — the failed call may have taken effect before its response was
 * lost.
 */
export async function findOrCreate<T>(
  ctx: EngineContext,
  find: () => Promise<T | undefined>,
  create: () => Promise<T>,
): Promise<{ value: T; created: boolean }> {
  for (let attempt = 1; ; attempt++) {
    const found = await find();
    if (found !== undefined) return { value: found, created: false };
    try {
      return { value: await create(), created: true };
    } catch (error) {
      const retryable = isBatchshipError(error) && error.retryable;
      if (!retryable || attempt >= ctx.polling.retryAttempts) throw error;
      await ctx.sleep(ctx.polling.retryDelayMs * attempt);
    }
  }
}
