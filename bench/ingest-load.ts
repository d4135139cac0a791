import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { connect } from "node:net";

export interface LoadResult {
  deliveries: number;
  seconds: number;
  /** Time to the answer of every delivery answered 2xx, in milliseconds, in the order answered. */
  latencies: number[];
  errors: number;
}

/** A signed push delivery as the bytes of one HTTP/1.1 request. */
export type PreparedDelivery = Buffer;

const PLACEHOLDER_SHA = "@@after-sha@@";

/**
 * Signs push deliveries before the clock starts, so the senders' own HMACs cost nothing
 * measured. Each has a fresh commit sha and `X-GitHub-Delivery`, so a server that stores them
 * must store every one. The payload is serialised once; only the sha changes.
 */
export function prepareDeliveries(count: number, secret: string, template: Record<string, unknown>, repository: string): PreparedDelivery[] {
  const templateRepository = template.repository as Record<string, unknown>;
  const text = JSON.stringify({ ...template, ref: "refs/heads/main", after: PLACEHOLDER_SHA, repository: { ...templateRepository, full_name: repository } });
  const [head, tail, ...more] = text.split(PLACEHOLDER_SHA);
  if (head === undefined || tail === undefined || more.length > 0) throw new Error("the push template already holds the placeholder");
  const out: PreparedDelivery[] = [];
  for (let i = 0; i < count; i++) {
    const body = Buffer.from(`${head}${randomBytes(20).toString("hex")}${tail}`);
    const headers = [
      "POST /webhook HTTP/1.1",
      "host: 127.0.0.1",
      "content-type: application/json",
      `content-length: ${body.length}`,
      "x-github-event: push",
      `x-github-delivery: ${randomUUID()}`,
      `x-hub-signature-256: sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    ];
    out.push(Buffer.concat([Buffer.from(`${headers.join("\r\n")}\r\n\r\n`, "latin1"), body]));
  }
  return out;
}

/**
 * `senders` loops, each on its own keep-alive connection, posting the next delivery as soon as
 * the previous one was answered, for `seconds`. Latency is time from writing the request to
 * the end of the answer.
 *
 * The senders share the machine with the server they measure, so they write prepared bytes to
 * a socket and read back only the status line and Content-Length: about half the CPU per
 * request of node:http or undici, which here cost more per request than the servers measured.
 */
export async function runLoad(url: string, deliveries: PreparedDelivery[], senders: number, seconds: number): Promise<LoadResult> {
  const target = new URL(url);
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  const connections = Array.from({ length: senders }, () => openConnection(target.hostname, Number(target.port)));
  try {
    await Promise.all(
      connections.map(async (connection) => {
        while (performance.now() < deadline) {
          const delivery = deliveries[next++];
          if (delivery === undefined) throw new Error(`ran out of prepared deliveries after ${deliveries.length}: prepare more per round`);
          const t0 = performance.now();
          const status = await connection.send(delivery).catch(() => 0);
          if (status >= 200 && status < 300) latencies.push(performance.now() - t0);
          else errors++;
        }
      }),
    );
  } finally {
    for (const connection of connections) connection.close();
  }
  return { deliveries: latencies.length, seconds: (performance.now() - started) / 1000, latencies, errors };
}

/** One keep-alive HTTP/1.1 connection, one request in flight; answers must carry a Content-Length (or be a 204). */
function openConnection(host: string, port: number): { send(request: Buffer): Promise<number>; close(): void } {
  const socket = connect({ host, port, noDelay: true });
  let received: Buffer = Buffer.alloc(0);
  let pending: { resolve: (status: number) => void; reject: (error: Error) => void } | undefined;
  const settle = (outcome: number | Error): void => {
    const waiting = pending;
    pending = undefined;
    if (outcome instanceof Error) waiting?.reject(outcome);
    else waiting?.resolve(outcome);
  };
  socket.on("data", (chunk: Buffer) => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    const headEnd = received.indexOf("\r\n\r\n");
    if (headEnd < 0) return;
    const head = received.subarray(0, headEnd).toString("latin1");
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
    if (length === undefined && status !== 204) return settle(new Error(`answer without Content-Length: ${head.split("\r\n")[0]}`));
    const total = headEnd + 4 + Number(length ?? 0);
    if (received.length < total) return;
    received = received.subarray(total);
    settle(status);
  });
  socket.on("error", (error) => settle(error));
  socket.on("close", () => settle(new Error("connection closed")));
  return {
    send: (request) =>
      new Promise<number>((resolve, reject) => {
        pending = { resolve, reject };
        socket.write(request);
      }),
    close: () => socket.destroy(),
  };
}

/** The value below which `p` of the sorted values fall. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 0.5);
}
