import { errorFields, type Logger } from "../server/logger.js";

export interface ConfigReloads {
  /** Asks for a reload; reloads never overlap, and one asked for while another waits to retry replaces it. */
  request(reason: string, options?: { pull?: boolean }): void;
  /** A pull that keeps failing, for /readyz: since when, how often. */
  failing(): { since: number; attempts: number; error: string } | undefined;
  /** Resolves once the reload under way (if any) has ended; pending retries are dropped. */
  stop(): Promise<void>;
}

/**
 * Pipeline reloads, one at a time. A reload that pulls the config checkout (a push to the config
 * repository) and fails is tried again, after `retryMs` and then twice as long each time, up to
 * 64×, until it succeeds or a newer one replaces it: a git host down for a while does not lose
 * the change until the next config push. What survives a crash is the checkout itself: the
 * service pulls it when it starts (start-service.ts), so a push answered just before a kill -9
 * is still applied.
 */
export function createConfigReloads(options: {
  /** Pulls (when asked) and loads the files; throws when either fails. */
  reload: (pull: boolean, reason: string) => Promise<void>;
  logger: Logger;
  clock: () => number;
  retryMs: number;
}): ConfigReloads {
  const { logger } = options;
  let chain: Promise<void> = Promise.resolve();
  let retry: NodeJS.Timeout | undefined;
  let failure: { since: number; attempts: number; error: string } | undefined;
  let stopped = false;

  const run = (reason: string, pull: boolean): void => {
    chain = chain.then(async () => {
      if (stopped) return;
      try {
        await options.reload(pull, reason);
        if (pull) failure = undefined;
      } catch (error) {
        if (!pull) {
          logger.error("pipelines reload failed; keeping the previous ones", { reason, ...errorFields(error) });
          return;
        }
        const attempts = (failure?.attempts ?? 0) + 1;
        failure = { since: failure?.since ?? options.clock(), attempts, error: errorFields(error).error as string };
        const retryInMs = options.retryMs * 2 ** Math.min(attempts - 1, MAX_BACKOFF_STEPS);
        logger.error("pipelines reload failed; keeping the previous ones", { reason, attempts, retryInMs, ...errorFields(error) });
        if (stopped) return;
        clearTimeout(retry);
        retry = setTimeout(() => {
          retry = undefined;
          run(`retry: ${reason.replace(/^retry: /, "")}`, true);
        }, retryInMs);
        retry.unref();
      }
    });
  };

  return {
    request(reason, requestOptions = {}) {
      if (stopped) return;
      const pull = requestOptions.pull ?? false;
      // A new pull does what the waiting retry would have done, now.
      if (pull && retry !== undefined) {
        clearTimeout(retry);
        retry = undefined;
      }
      run(reason, pull);
    },
    failing: () => failure,
    async stop() {
      stopped = true;
      clearTimeout(retry);
      await chain;
    },
  };
}

const MAX_BACKOFF_STEPS = 6;
