import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient, type Message } from "@aws-sdk/client-sqs";
import type { Change } from "../release/change-feed.js";
import type { Sleep } from "../release/ports.js";
import type { AwsClientOptions } from "./clients.js";
import { awsCall, toBatchshipError } from "./errors.js";
import { parseChangeEvent, type ParsedEvent } from "./change-events.js";

/** The longest ReceiveMessage wait SQS allows: one call per 20 s while nothing happens. */
const WAIT_SECONDS = 20;
const BATCH = 10;
/**
 * Receives in flight at once. One at a time, a backlog (a thousand canaries ending together)
 * drains one round trip per 10 messages; several loops drain it several times as fast, and while
 * the queue is empty each costs one call per 20 s.
 */
const RECEIVERS = 4;
const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;

export interface ChangeListenerDeps {
  client: SQSClient;
  queueUrl: string;
  publish(change: Change): void;
  /** Every message received, by what it turned out to be. */
  onMessage(kind: ParsedEvent["kind"]): void;
  warn(message: string, fields: Record<string, unknown>): void;
  /** Receiving works (true) or has just failed (false); called on every change between the two. */
  onHealth?(receiving: boolean): void;
  sleep: Sleep;
}

export interface ChangeListener {
  /** Since when receiving has failed without a success in between (undefined: it works). */
  failingSince(): number | undefined;
  stop(): Promise<void>;
}

/**
 * An SQS client for the events queue: the standard AWS configuration, and the queue's own region
 * when its URL names one (the queue may live in another region than AWS_REGION says).
 */
export function createSqsClient(options: AwsClientOptions, queueUrl: string): SQSClient {
  const region = options.region ?? regionOfQueueUrl(queueUrl);
  return new SQSClient({
    ...(region === undefined ? {} : { region }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    ...(options.retryStrategy === undefined ? {} : { retryStrategy: options.retryStrategy }),
  });
}

/** `https://sqs.<region>.amazonaws.com/…` and the legacy `https://<region>.queue.amazonaws.com/…`. */
export function regionOfQueueUrl(queueUrl: string): string | undefined {
  const host = URL.canParse(queueUrl) ? new URL(queueUrl).hostname : "";
  return /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(host)?.[1] ?? /^([a-z0-9-]+)\.queue\.amazonaws\.com(\.cn)?$/.exec(host)?.[1];
}

/** At start: the queue exists and this identity may read it. Throws a BatchshipError naming the queue. */
export async function checkEventsQueue(client: SQSClient, queueUrl: string): Promise<void> {
  await awsCall(`read the events queue ${queueUrl} (BATCHSHIP_EVENTS_QUEUE_URL)`, () =>
    client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] })),
  );
}

/**
 * Long-polls the queue until stopped. Each message is parsed, published, and deleted — garbage
 * too (logged first): a message that can never be understood must not come back forever. A
 * failed receive is retried with a growing pause; meanwhile the engine's safety-net polls carry
 * on, so events only ever make things faster. RECEIVERS loops receive at once, each holding at
 * most one batch of messages.
 */
export function startChangeListener(deps: ChangeListenerDeps): ChangeListener {
  const stopping = new AbortController();
  let failingSince: number | undefined;
  const receiveLoop = async (index: number) => {
    let backoff = FIRST_BACKOFF_MS;
    while (!stopping.signal.aborted) {
      let messages: Message[];
      try {
        const answer = await deps.client.send(
          new ReceiveMessageCommand({ QueueUrl: deps.queueUrl, MaxNumberOfMessages: BATCH, WaitTimeSeconds: WAIT_SECONDS }),
          { abortSignal: stopping.signal },
        );
        messages = answer.Messages ?? [];
        if (failingSince !== undefined) deps.onHealth?.(true);
        failingSince = undefined;
        backoff = FIRST_BACKOFF_MS;
      } catch (error) {
        if (stopping.signal.aborted) break;
        const first = failingSince === undefined;
        if (first) deps.onHealth?.(false);
        failingSince ??= Date.now();
        const failure = toBatchshipError(`receive from the events queue ${deps.queueUrl}`, error);
        // The loops fail together: one of them speaks for all.
        if (first || index === 0) deps.warn("receiving events failed; polling carries on, retrying", { error: failure.message, hint: failure.hint ?? null, retryInMs: backoff });
        await deps.sleep(backoff, stopping.signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        continue;
      }
      for (const message of messages) handle(deps, message);
      await deleteAll(deps, messages, stopping.signal);
    }
  };
  const loops = Promise.all(Array.from({ length: RECEIVERS }, (_, index) => receiveLoop(index)));
  return {
    failingSince: () => failingSince,
    async stop() {
      stopping.abort();
      await loops;
    },
  };
}

function handle(deps: ChangeListenerDeps, message: Message): void {
  const parsed = parseChangeEvent(message.Body ?? "");
  deps.onMessage(parsed.kind);
  if (parsed.kind === "job" || parsed.kind === "build") deps.publish(parsed.change);
  else if (parsed.kind === "malformed") deps.warn("dropped a message of the events queue that is not an event", { reason: parsed.reason, messageId: message.MessageId ?? null });
}

/**
 * One DeleteMessageBatch for the messages of one receive (at most 10, SQS's batch limit), not
 * one DeleteMessage each: with a thousand canaries ending at once, deleting one by one made the
 * queue's backlog, and so the verdicts, wait on round trips.
 */
async function deleteAll(deps: ChangeListenerDeps, messages: Message[], signal: AbortSignal): Promise<void> {
  const entries = messages.flatMap((message, index) => (message.ReceiptHandle === undefined ? [] : [{ Id: String(index), ReceiptHandle: message.ReceiptHandle }]));
  if (entries.length === 0) return;
  try {
    const answer = await deps.client.send(new DeleteMessageBatchCommand({ QueueUrl: deps.queueUrl, Entries: entries }), { abortSignal: signal });
    for (const failed of answer.Failed ?? []) {
      // It comes back after the visibility timeout: one more poll, nothing worse.
      deps.warn("deleting a message of the events queue failed; it will be received again", { error: `${failed.Code ?? "error"}: ${failed.Message ?? ""}`, messageId: messages[Number(failed.Id)]?.MessageId ?? null });
    }
  } catch (error) {
    if (!signal.aborted) deps.warn("deleting messages of the events queue failed; they will be received again", { error: toBatchshipError("delete events queue messages", error).message });
  }
}
