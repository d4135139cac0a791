import { request } from "node:http";
import type { IncomingHttpHeaders } from "node:http";
import type { Reply } from "./reply.js";

export interface RawRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

// Hop-by-hop and length headers: node recomputes them for the body actually sent.
const DROPPED_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection", "keep-alive"]);

/** Sends the request on to moto as it came (or with a rewritten body) and collects moto's answer. */
export function forwardToMoto(motoEndpoint: string, raw: RawRequest, body: string = raw.body): Promise<Reply> {
  const target = new URL(raw.url, motoEndpoint);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(raw.headers)) {
    if (value !== undefined && !DROPPED_HEADERS.has(name)) headers[name] = value;
  }
  headers["content-length"] = String(Buffer.byteLength(body));

  return new Promise((resolve, reject) => {
    const outgoing = request(target, { method: raw.method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      response.on("end", () => {
        const replyHeaders: Record<string, string> = {};
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined && !DROPPED_HEADERS.has(name)) replyHeaders[name] = Array.isArray(value) ? value.join(", ") : value;
        }
        resolve({ status: response.statusCode ?? 502, headers: replyHeaders, body: Buffer.concat(chunks).toString("utf8") });
      });
    });
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}
