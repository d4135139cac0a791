import { checkEventsQueue, createSqsClient, startChangeListener, type ChangeListener } from "../aws/sqs-change-listener.js";
import { createChangeHub, type ChangeHub } from "../release/change-hub.js";
import { realSleep } from "../release/ports.js";
import type { Logger } from "../server/logger.js";
import type { EventMetrics } from "./event-metrics.js";

/** The events queues of a service started with BATCHSHIP_EVENTS_QUEUE_URL: checked, not yet read. */
export interface EventsQueues {
  hub: ChangeHub;
  /** Starts reading every queue into the hub. */
  listen(logger: Logger, metrics: EventMetrics, clock: () => number): void;
  /** Since when reading some queue has failed, if one does now. */
  failingSince(): number | undefined;
  close(): Promise<void>;
}

/**
 * Checks at start that every queue exists and may be read (a BatchshipError otherwise: the
 * service does not start, and nothing has been made yet). The clients take the standard AWS
 * configuration (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_SQS, …). While any queue cannot be
 * read the hub is deaf, and the engine polls at the poll interval: a pipeline whose events go
 * to that queue would otherwise wait out the safety net.
 */
export async function openEventsQueues(urls: readonly string[]): Promise<EventsQueues> {
  const clients = urls.map((url) => ({ url, client: createSqsClient({}, url) }));
  const destroy = (): void => clients.forEach(({ client }) => client.destroy());
  try {
    for (const { url, client } of clients) await checkEventsQueue(client, url);
  } catch (error) {
    destroy();
    throw error;
  }
  const hub = createChangeHub();
  const failing = new Set<string>();
  let listeners: ChangeListener[] | undefined;
  return {
    hub,
    listen(logger, metrics, clock) {
      listeners ??= clients.map(({ url, client }) =>
        startChangeListener({
          client,
          queueUrl: url,
          publish: (change) => hub.publish(change),
          onMessage: (kind) => metrics.received(kind, clock()),
          warn: (message, fields) => logger.warn(message, { queueUrl: url, ...fields }),
          onHealth(receiving) {
            if (receiving) failing.delete(url);
            else failing.add(url);
            hub.setLive(failing.size === 0);
          },
          sleep: realSleep,
        }),
      );
      logger.info("reading build and job state changes from the events queues", { queueUrls: urls });
    },
    failingSince() {
      const since = (listeners ?? []).map((l) => l.failingSince()).filter((t): t is number => t !== undefined);
      return since.length === 0 ? undefined : Math.min(...since);
    },
    async close() {
      await Promise.all((listeners ?? []).map((l) => l.stop()));
      destroy();
    },
  };
}
