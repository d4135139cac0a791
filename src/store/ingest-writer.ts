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
  /** Whether the checkpoint thread still runs. */
  checkpointing(): boolean;
  /**
   * Whether the writer can take the store's write lock now, asked on its own thread (so a
   * caller never waits on the lock); at most one question in flight, later callers share it.
   */
  probeWritable(): Promise<boolean>;
  /** Lets what was sent commit, then ends the thread; resolves once it has closed its connection and exited. */
  close(): Promise<void>;
}

interface Waiting {
  /** A record's RecordedDelivery, or a probe's boolean. */
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * `onFailure` hears once if the thread dies (out of memory, a native crash): nothing can be
 * recorded after that, and the service cannot heal it, so it should stop.
 */
export function startIngestWriter(
  options: IngestWorkerData,
  onFailure: (error: BatchshipError) => void = () => {},
  onCheckpointerFailure: (error: BatchshipError) => void = () => {},
  startThread: StartThread = startWorker,
): IngestWriter {
  const worker = startThread("ingest-worker", options);
  // Should it die, the writer checkpoints a WAL grown past its limit itself (connection.ts), so
  // the service goes on; `onCheckpointerFailure` says so, and `health()` reports it.
  const checkpointer = startThread("checkpoint-worker", options);
  let checkpointerFailure: string | undefined;
  const checkpointerFailed = (cause: unknown): void => {
    if (checkpointerFailure !== undefined) return;
    checkpointerFailure = cause instanceof Error ? cause.message : String(cause);
    onCheckpointerFailure(new BatchshipError("ENVIRONMENT", `WAL checkpoints stopped: the store's checkpoint thread died (${checkpointerFailure})`, {
      hint: "the store's writer checkpoints past 100 MB of WAL by itself; restart the service to bring the thread back",
      cause,
    }));
  };
  checkpointer.on("error", checkpointerFailed);
  checkpointer.unref();
  // The thread keeps the process alive only while it has work: records to answer, or a close.
  worker.unref();
  const waiting = new Map<number, Waiting>();
  let nextId = 1;
  let failure: BatchshipError | undefined;
  let closing = false;
  let probing: Promise<boolean> | undefined;
  // Closed means both threads have exited: neither touches the store's files any more.
  const exited = Promise.all([
    new Promise<void>((resolve) => worker.once("exit", () => resolve())),
    new Promise<void>((resolve) => checkpointer.once("exit", () => resolve())),
  ]).then(() => undefined);
  checkpointer.on("exit", (code) => {
    if (!closing) checkpointerFailed(new Error(`its thread exited with code ${code}`));
  });

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
    if (reply.ok) entry.resolve(reply.value);
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
        waiting.set(id, { resolve: (value) => resolve(value as RecordedDelivery), reject });
        send({ type: "record", id, input });
      });
    },
    alive: () => failure === undefined,
    checkpointing: () => checkpointerFailure === undefined,
    probeWritable() {
      if (failure || closing) return Promise.resolve(false);
      probing ??= new Promise<boolean>((resolve) => {
        const id = nextId++;
        if (waiting.size === 0) worker.ref();
        waiting.set(id, { resolve: (value) => resolve(value === true), reject: () => resolve(false) });
        send({ type: "probe", id });
      }).finally(() => (probing = undefined));
      return probing;
    },
    close() {
      if (!closing) {
        closing = true;
        // Both threads keep the process alive until they have exited: close waits for both.
        worker.ref();
        checkpointer.ref();
        checkpointer.postMessage("close");
        if (failure === undefined) send({ type: "close" });
        else void worker.terminate();
      }
      return exited;
    },
  };
}

/** Starts one of the store's threads; tests pass their own to see how the store takes a thread's death. */
export type StartThread = (name: "ingest-worker" | "checkpoint-worker", workerData: IngestWorkerData) => Worker;

/** The built service runs the compiled worker; from source (the tests) it is loaded through tsx, like the tests themselves. */
export function startWorker(name: string, workerData: IngestWorkerData): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData });
  const entry = JSON.stringify(new URL(`./${name}.ts`, import.meta.url).href);
  return new Worker(`import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${entry}); });`, { eval: true, workerData });
}
