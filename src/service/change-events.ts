import { checkEventsQueue, createSqsClient, startChangeListener, type ChangeListener } from "../aws/sqs-change-listener.js";
import { createChangeHub, type ChangeHub } from "../release/change-hub.js";
import { realSleep } from "../release/ports.js";
import type { Logger } from "../server/logger.js";
import type { EventMetrics } from "./event-metrics.js";

/** The events queue of a service started with BATCHSHIP_EVENTS_QUEUE_URL: checked, not yet read. */
export interface EventsQueue {
  url: string;
  hub: ChangeHub;
  /** Starts reading the queue into the hub. */
  listen(logger: Logger, metrics: EventMetrics, clock: () => number): void;
  /** Since when reading has failed, if it does now. */
  failingSince(): number | undefined;
  close(): Promise<void>;
}

/**
 * Checks at start that the queue exists and may be read (a BatchshipError otherwise: the service
 * does not start, and nothing has been made yet). The client takes the standard AWS
 * configuration (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_SQS, …).
 */
export async function openEventsQueue(url: string): Promise<EventsQueue> {
  const client = createSqsClient({}, url);
  try {
    await checkEventsQueue(client, url);
  } catch (error) {
    client.destroy();
    throw error;
  }
  const hub = createChangeHub();
  let listener: ChangeListener | undefined;
  return {
    url,
    hub,
    listen(logger, metrics, clock) {
      listener ??= startChangeListener({
        client,
        queueUrl: url,
        publish: (change) => hub.publish(change),
        onMessage: (kind) => metrics.received(kind, clock()),
        warn: (message, fields) => logger.warn(message, fields),
        onHealth: (receiving) => hub.setLive(receiving),
        sleep: realSleep,
      });
      logger.info("reading build and job state changes from the events queue", { queueUrl: url });
    },
    failingSince: () => listener?.failingSince(),
    async close() {
      await listener?.stop();
      client.destroy();
    },
  };
}
