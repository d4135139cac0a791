import { readFile } from "node:fs/promises";
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
  // One burst for every connection: the sender's own memory and time stay small.
  const burst = Buffer.alloc(Math.min(options.burstBytes, options.declaredBytes - 1), 0x20);
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
      socket.write(burst, (error) => {
        if (!error) sent += burst.length;
      });
      let dribbled = burst.length;
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

/**
 * A process's resident memory in bytes, as Linux reports it (VmRSS in /proc/PID/status): read
 * beside the service, not through it, so a flooded server cannot delay or skew the figure.
 */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}
