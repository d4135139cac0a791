import type { ServerResponse } from "node:http";

export interface Reply {
  status: number;
  body?: unknown;
  /** Sent as is (metrics); otherwise `body` is sent as JSON. */
  text?: string;
  headers?: Record<string, string>;
}

export function send(response: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...reply.headers };
  let payload = "";
  if (reply.text !== undefined) payload = reply.text;
  else if (reply.body !== undefined) {
    payload = `${JSON.stringify(reply.body)}\n`;
    headers["content-type"] ??= "application/json; charset=utf-8";
  }
  headers["content-length"] = String(Buffer.byteLength(payload));
  response.writeHead(reply.status, headers);
  response.end(payload);
}
