import { get } from "node:http";
import { connect, type Socket } from "node:net";

export interface FloodConnection {
  /** The status line's code once an answer came, undefined while none did. */
  status: number | undefined;
  /** Milliseconds from the connection's start to its close, undefined while open. */
  closedAfterMs: number | undefined;
}

export interface SlowBodyFlood {
  connections: FloodConnection[];
  /** Body bytes written so far, across connections. */
  bytesSent(): number;
  /** Resolves once every connection was closed (by the server, or by `stop`). */
  closed: Promise<void>;
  stop(): void;
}

/**
 * `count` loopback connections that each POST to /webhook declaring a body of `declaredBytes`
 * with a well-formed (wrong) signature, write `burstBytes` of it at once, then a byte every
 * `dribbleMs`: the slow sender that holds whatever the server keeps of its body. Nothing is ever
 * finished by the sender; the flood ends when the server closes the connections, or at `stop`.
 */
export function startSlowBodyFlood(options: { port: number; count: number; declaredBytes: number; burstBytes: number; dribbleMs: number }): SlowBodyFlood {
  const started = Date.now();
  const sockets: Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  let sent = 0;
  const connections: FloodConnection[] = [];
  const closings: Promise<void>[] = [];
  for (let i = 0; i < options.count; i++) {
    const connection: FloodConnection = { status: undefined, closedAfterMs: undefined };
    connections.push(connection);
    const socket = connect(options.port, "127.0.0.1");
    sockets.push(socket);
    let head = "";
    socket.on("data", (chunk: Buffer) => {
      if (connection.status !== undefined) return;
      head += chunk.toString("latin1");
      const match = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (match) connection.status = Number(match[1]);
    });
    socket.on("error", () => undefined);
    closings.push(
      new Promise((resolve) =>
        socket.once("close", () => {
          connection.closedAfterMs = Date.now() - started;
          resolve();
        }),
      ),
    );
    socket.once("connect", () => {
      socket.write(
        [
          "POST /webhook HTTP/1.1",
          "Host: 127.0.0.1",
          "Content-Type: application/json",
          `Content-Length: ${options.declaredBytes}`,
          "X-GitHub-Event: push",
          `X-GitHub-Delivery: flood-${i}`,
          `X-Hub-Signature-256: sha256=${"ab".repeat(32)}`,
          "",
          "",
        ].join("\r\n"),
      );
      const burst = Math.min(options.burstBytes, options.declaredBytes - 1);
      socket.write(Buffer.alloc(burst, 0x20), () => {
        sent += burst;
      });
      let dribbled = burst;
      const timer = setInterval(() => {
        if (socket.destroyed || dribbled >= options.declaredBytes - 1) return;
        socket.write(" ");
        dribbled += 1;
        sent += 1;
      }, options.dribbleMs);
      timers.push(timer);
    });
  }
  const stop = (): void => {
    for (const timer of timers) clearInterval(timer);
    for (const socket of sockets) socket.destroy();
  };
  const closed = Promise.all(closings).then(() => {
    for (const timer of timers) clearInterval(timer);
  });
  return { connections, bytesSent: () => sent, closed, stop };
}

/** The service's resident memory, as its own /metrics reports it (prom-client's process metrics). */
export async function residentBytes(url: string): Promise<number> {
  // A connection of its own: a pooled one may be the one a flooded server just closed.
  const text = await new Promise<string>((resolve, reject) => {
    get(`${url}/metrics`, { agent: false }, (response) => {
      let body = "";
      response.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve(body));
      response.on("error", reject);
    }).on("error", reject);
  });
  const match = /^batchship_process_resident_memory_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
  if (!match) throw new Error("no batchship_process_resident_memory_bytes in /metrics");
  return Number(match[1]);
}
