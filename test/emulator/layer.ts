import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { faultReply } from "./aws-errors.js";
import type { FaultPlan } from "./faults.js";
import { forwardToMoto, type RawRequest } from "./forward.js";
import { identifyCall } from "./identify-call.js";
import { interceptorFor, type Interceptors } from "./interceptor.js";
import type { Reply } from "./reply.js";

export interface RecordedCall {
  service: "batch" | "ecr" | "codebuild" | (string & {});
  operation: string;
  input: any;
  /** HTTP status the client got (0 while the call is still in flight). */
  status: number;
  /** The client got a fault from the layer instead of moto's answer. */
  faulted: boolean;
  /** moto saw the call (false for faults answered before forwarding and replayed idempotent calls). */
  forwarded: boolean;
}

export interface Layer {
  endpoint: string;
  close(): Promise<void>;
}

export interface LayerOptions {
  motoEndpoint: string;
  interceptors: Interceptors;
  faults: FaultPlan;
  calls: RecordedCall[];
}

/** The HTTP server the SDK clients talk to: records, faults, forwards to moto, rewrites answers. */
export async function startLayer(options: LayerOptions): Promise<Layer> {
  const server = createServer((request, response) => {
    handle(options, request, response).catch((error: unknown) => {
      // A client that gave up (an aborted long poll) is not waiting for an answer.
      if (response.destroyed) return;
      // A bug in the layer must be loud: the test would otherwise see a confusing SDK error.
      console.error("emulator layer failed:", error);
      if (!response.headersSent) response.writeHead(502, { "content-type": "text/plain" });
      response.end(`emulator layer failed: ${String(error)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}

async function handle(options: LayerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const raw: RawRequest = {
    method: request.method ?? "GET",
    url: request.url ?? "/",
    headers: request.headers,
    body: await readBody(request),
  };
  const call = identifyCall(raw.method, raw.url, raw.headers, raw.body);
  if (!call) {
    // moto's own API (/moto-api/…) and anything unsigned: pass through, unrecorded.
    send(response, await forwardToMoto(options.motoEndpoint, raw));
    return;
  }

  const record: RecordedCall = { service: call.service, operation: call.operation, input: call.input, status: 0, faulted: false, forwarded: false };
  options.calls.push(record);

  let reply: Reply;
  const fault = options.faults.takeBeforeForwarding(call.service, call.operation);
  if (fault) {
    record.faulted = true;
    reply = faultReply(call.protocol, fault);
  } else {
    reply = await interceptorFor(options.interceptors, call)({
      call,
      forward: (input?: unknown) => {
        record.forwarded = true;
        return forwardToMoto(options.motoEndpoint, raw, input === undefined ? raw.body : JSON.stringify(input));
      },
    });
    if (options.faults.takeAfterForwarding(call.operation)) {
      record.faulted = true;
      reply = faultReply(call.protocol, "500");
    }
  }

  if (options.faults.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, options.faults.delayMs));
  record.status = reply.status;
  send(response, reply);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function send(response: ServerResponse, reply: Reply): void {
  response.writeHead(reply.status, { ...reply.headers, "content-length": String(Buffer.byteLength(reply.body)) });
  response.end(reply.body);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // The SDK keeps connections alive; without this, close waits for them to time out.
    server.closeAllConnections();
  });
}
