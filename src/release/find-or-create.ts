import { isBatchshipError } from "../errors.js";
import type { EngineContext } from "./context.js";
import { isThrottled, waitOutThrottling, type ThrottleWait } from "./throttle-wait.js";

/**
 * Exactly-once creation for AWS calls without an idempotency token (RegisterJobDefinition,
 * SubmitJob). Look first; create only when nothing is found; after a retryable failure look
 * again before creating again — the failed call may have taken effect before its response was
 * lost. A throttled create is waited out (throttle-wait.ts) without using up an attempt.
 */
export async function findOrCreate<T>(
  ctx: EngineContext,
  find: () => Promise<T | undefined>,
  create: () => Promise<T>,
): Promise<{ value: T; created: boolean }> {
  const throttling: ThrottleWait = { rounds: 0, waitedMs: 0 };
  for (let attempt = 1; ; ) {
    const found = await find();
    if (found !== undefined) return { value: found, created: false };
    try {
      return { value: await create(), created: true };
    } catch (error) {
      const retryable = isBatchshipError(error) && error.retryable;
      if (!retryable) throw error;
      if (isThrottled(error)) {
        if (await waitOutThrottling(throttling, ctx.polling.retryDelayMs, ctx.sleep)) continue;
        throw error;
      }
      if (attempt >= ctx.polling.retryAttempts) throw error;
      await ctx.sleep(ctx.polling.retryDelayMs * attempt);
      attempt++;
    }
  }
}
