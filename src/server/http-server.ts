import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/**
 * GitHub gives up on a delivery after 10 seconds: a request whose headers and body have not
 * arrived by then is not one GitHub still waits for, so it is cut off (408) and whatever it
 * held is let go. Node's defaults (five minutes for a request, checked every 30 s) let slow
 * senders hold memory that long.
 */
export const REQUEST_TIMEOUT_MS = 10_000;
const TIMEOUT_CHECK_MS = 1_000;
const KEEP_ALIVE_MS = 5_000;

/** The service's HTTP server: the timeouts above and a cap on open connections (more are closed as they arrive). */
export function createHttpServer(listener: (request: IncomingMessage, response: ServerResponse) => void, options: { maxConnections: number }): Server {
  const server = createServer(
    {
      keepAliveTimeout: KEEP_ALIVE_MS,
      headersTimeout: REQUEST_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
    },
    listener,
  );
  server.maxConnections = options.maxConnections;
  return server;
}
