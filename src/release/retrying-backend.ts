import { isBatchshipError } from "../errors.js";
import type { Backend, Builder, JobPlatform, Registry, Sleep } from "./ports.js";
import type { ReleaseObserver } from "./events.js";
import { isThrottled, THROTTLE_BUDGET_MS, waitOutThrottling, type ThrottleWait } from "./throttle-wait.js";

export interface RetryPolicy {
  attempts: number;
  delayMs: number;
  sleep: Sleep;
  observe: ReleaseObserver;
}

/**
 * The SDK retries each call a few times; a throttling storm can outlast that. Every port call
 * that is safe to repeat — reads, tagging, stopping, and StartBuild with its idempotency token —
 * is retried again here, with a growing pause. Throttling is waited out apart from that, for up
 * to THROTTLE_BUDGET_MS: it slows the release, it does not fail it. RegisterJobDefinition and
 * SubmitJob are not safe to repeat and are left to `findOrCreate`, which looks before it creates
 * again.
 */
export function withRetries(backend: Backend, policy: RetryPolicy): Backend {
  const retry = <A extends unknown[], R>(what: string, call: (...args: A) => Promise<R>) =>
    (...args: A) => retrying(policy, what, () => call(...args));
  const { builder, registry, platform } = backend;
  const retryingBuilder: Builder = {
    findBuild: retry("find build", (r) => builder.findBuild(r)),
    startBuild: retry("start build", (r) => builder.startBuild(r)),
    getBuild: retry("read build", (id) => builder.getBuild(id)),
    ...(builder.stopBuild === undefined ? {} : { stopBuild: retry("stop build", (id: string) => builder.stopBuild!(id)) }),
  };
  const { definition } = builder;
  if (definition !== undefined) retryingBuilder.definition = retry("read build definition", (p) => definition.call(builder, p));
  const retryingRegistry: Registry = {
    ensureRepository: retry("ensure image repository", (r) => registry.ensureRepository(r)),
    findDigest: retry("find image digest", (r, t) => registry.findDigest(r, t)),
  };
  // Adding a tag that is already on the image changes nothing: safe to repeat.
  const { findTags, addTags } = registry;
  if (findTags !== undefined) retryingRegistry.findTags = retry("find image tags", (r, t) => findTags.call(registry, r, t));
  if (addTags !== undefined) retryingRegistry.addTags = retry("tag image", (r, d, t) => addTags.call(registry, r, d, t));
  const retryingPlatform: JobPlatform = {
    listJobDefinitionRevisions: retry("list job definitions", (n, s) => platform.listJobDefinitionRevisions(n, s)),
    newestJobDefinitionRevisions: retry("look up the newest job definitions", (n, o) => platform.newestJobDefinitionRevisions(n, o)),
    registerJobDefinition: (n, b, t) => platform.registerJobDefinition(n, b, t),
    tagJobDefinition: retry("tag job definition", (a, t) => platform.tagJobDefinition(a, t)),
    deregisterJobDefinition: retry("deregister job definition", (a) => platform.deregisterJobDefinition(a)),
    findJobs: retry("find jobs", (q, n) => platform.findJobs(q, n)),
    submitJob: (r) => platform.submitJob(r),
    describeJob: retry("describe job", (id) => platform.describeJob(id)),
    listChildren: retry("list child jobs", (id, o) => platform.listChildren(id, o)),
    stopJob: retry("stop job", (id, reason) => platform.stopJob(id, reason)),
  };
  const { logs } = backend;
  return {
    ...backend,
    builder: retryingBuilder,
    registry: retryingRegistry,
    platform: retryingPlatform,
    ...(logs === undefined ? {} : { logs: { readLogs: retry("read job output", (job, o) => logs.readLogs(job, o)) } }),
  };
}

async function retrying<T>(policy: RetryPolicy, what: string, call: () => Promise<T>): Promise<T> {
  const throttling: ThrottleWait = { rounds: 0, waitedMs: 0 };
  for (let attempt = 1; ; ) {
    try {
      return await call();
    } catch (error) {
      if (!(isBatchshipError(error) && error.retryable)) throw error;
      if (isThrottled(error)) {
        // One line per call, not per pause: a storm over many releases would flood the log.
        if (throttling.rounds === 0) {
          policy.observe({ type: "warning", message: `${what} was throttled; waiting it out (at most ${THROTTLE_BUDGET_MS / 60_000} minutes): ${error.message}` });
        }
        if (await waitOutThrottling(throttling, policy.delayMs, policy.sleep)) continue;
        throw error;
      }
      if (attempt >= policy.attempts) throw error;
      policy.observe({ type: "warning", message: `${what} failed (attempt ${attempt}), retrying: ${error.message}` });
      await policy.sleep(policy.delayMs * attempt);
      attempt++;
    }
  }
}
