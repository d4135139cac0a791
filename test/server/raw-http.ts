import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { connect, type AddressInfo } from "node:net";

export interface TestServer {
  port: number;
  close(): Promise<void>;
}

/** A real node:http server on a free port around one request listener. */
export async function listenOn(listener: (request: IncomingMessage, response: ServerResponse) => void): Promise<TestServer> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** Everything after the header block, as received (no chunked decoding: the router sends Content-Length). */
  body: string;
}

/**
 * Writes one request byte for byte (node's client would normalise the request line) and reads
 * until the server closes the connection. Rejects after `timeoutMs` without an answer.
 */
export function rawRequest(port: number, requestLine: string, headers: Record<string, string> = {}, timeoutMs = 3_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${requestLine} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end === -1) {
        reject(new Error(`connection closed without a response to ${requestLine}: ${JSON.stringify(text)}`));
        return;
      }
      const [statusLine = "", ...lines] = text.slice(0, end).split("\r\n");
      const header: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        header[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(" ")[1]), headers: header, body: text.slice(end + 4) });
    });
    const lines = [requestLine, "Host: localhost", "Connection: close", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    socket.write(`${lines.join("\r\n")}\r\n\r\n`);
  });
}
