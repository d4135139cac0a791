import { Worker } from "node:worker_threads";
import { BatchshipError } from "../errors.js";
import type { StoreSync } from "./connection.js";
import type { IngestReply, IngestRequest, IngestWorkerData } from "./ingest-worker.js";
import type { DeliveryToRecord, RecordedDelivery } from "./record-delivery.js";

/**
 * Writes deliveries from a thread of their own, so the thread that reads requests never waits
 * on SQLite: the commit and its fsync happen on the writer's thread, with the plain
 * `synchronous` setting of the store, and WAL checkpoints on a third (checkpoint-worker.ts). A promise
 * resolves once its delivery is committed, and with sync "full" on disk.
 */
export interface IngestWriter {
  record(input: DeliveryToRecord): Promise<RecordedDelivery>;
  /** False once the writer's thread has died: nothing more can be recorded. */
  alive(): boolean;
  /** Lets what was sent commit, then ends the thread; resolves once it has closed its connection and exited. */
  close(): Promise<void>;
}

interface Waiting {
  resolve: (value: RecordedDelivery) => void;
  reject: (error: unknown) => void;
}

/**
 * `onFailure` hears once if the thread dies (out of memory, a native crash): nothing can be
 * recorded after that, and the service cannot heal it, so it should stop.
 */
export function startIngestWriter(options: IngestWorkerData, onFailure: (error: BatchshipError) => void = () => {}): IngestWriter {
  const worker = startWorker("ingest-worker", options);
  // Should it die, the writer checkpoints a WAL grown past its limit itself (connection.ts).
  const checkpointer = startWorker("checkpoint-worker", options);
  checkpointer.on("error", () => undefined);
  checkpointer.unref();
  // The thread keeps the process alive only while it has work: records to answer, or a close.
  worker.unref();
  const waiting = new Map<number, Waiting>();
  let nextId = 1;
  let failure: BatchshipError | undefined;
  let closing = false;
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));

  const fail = (cause: unknown): void => {
    const first = failure === undefined;
    failure ??= new BatchshipError("ENVIRONMENT", `Could not record the delivery: the store's writer stopped (${cause instanceof Error ? cause.message : String(cause)})`, {
      hint: "the service must be restarted; check that --data-dir is writable and the disk is not full",
      cause,
    });
    for (const { reject } of waiting.values()) reject(failure);
    waiting.clear();
    if (first) onFailure(failure);
  };
  const answered = (id: number): Waiting | undefined => {
    const entry = waiting.get(id);
    waiting.delete(id);
    if (waiting.size === 0 && !closing) worker.unref();
    return entry;
  };

  worker.on("message", (reply: IngestReply) => {
    const entry = answered(reply.id);
    if (entry === undefined) return;
    if (reply.ok) entry.resolve(reply.value as RecordedDelivery);
    else entry.reject(new BatchshipError("ENVIRONMENT", `Could not record the delivery: ${reply.error.message}`, { retryable: true }));
  });
  worker.on("error", fail);
  worker.on("exit", (code) => {
    if (!closing || waiting.size > 0) fail(new Error(`its thread exited with code ${code}`));
  });

  const send = (request: IngestRequest): void => worker.postMessage(request);
  return {
    record(input) {
      if (failure) return Promise.reject(failure);
      if (closing) return Promise.reject(new BatchshipError("ENVIRONMENT", "Could not record the delivery: the store is closing", { retryable: true }));
      const id = nextId++;
      return new Promise<RecordedDelivery>((resolve, reject) => {
        if (waiting.size === 0) worker.ref();
        waiting.set(id, { resolve, reject });
        send({ type: "record", id, input });
      });
    },
    alive: () => failure === undefined,
    close() {
      if (!closing) {
        closing = true;
        worker.ref();
        checkpointer.postMessage("close");
        if (failure === undefined) send({ type: "close" });
        else void worker.terminate();
      }
      return exited;
    },
  };
}

/** The built service runs the compiled worker; from source (the tests) it is loaded through tsx, like the tests themselves. */
function startWorker(name: string, workerData: IngestWorkerData): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData });
  const entry = JSON.stringify(new URL(`./${name}.ts`, import.meta.url).href);
  return new Worker(`import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${entry}); });`, { eval: true, workerData });
}
