import pLimit from "p-limit";

/**
 * The most calls one SDK client has in flight; the rest wait their turn before the SDK builds
 * them, holding only their command. A call built early would wait for a socket holding its
 * serialized, signed request and its response handlers: with 1,000 releases in one service,
 * such calls lived long enough to be promoted to V8's old generation and died there, and the
 * heap grew with them. 16 is more than AWS lets an account use: Batch allows 50 SubmitJob calls
 * a second and throttles its other calls at like rates, and 16 calls of 50 to 200 ms each are 80
 * to 320 a second. The HTTP agent gets as many sockets.
 */
export const MAX_CALLS_IN_FLIGHT = 16;

/** Options for an SDK client's HTTP handler: sockets per client, matching MAX_CALLS_IN_FLIGHT. */
export const REQUEST_HANDLER_OPTIONS = {
  httpAgent: { keepAlive: true, maxSockets: MAX_CALLS_IN_FLIGHT },
  httpsAgent: { keepAlive: true, maxSockets: MAX_CALLS_IN_FLIGHT },
} as const;

interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (next: (args: any) => Promise<any>) => (args: any) => Promise<any>,
      options: { step: "initialize"; name: string; priority: "high" },
    ): void;
  };
}

/**
 * Makes `client` wait for a free slot before each call: the first step of the SDK's middleware
 * stack, so the SDK's own retries, back-off and adaptive rate limiting all happen inside the slot.
 * A throttled client thus slows its queued calls too, which is the point of one client per API.
 */
export function limitCallsInFlight<C extends MiddlewareClient>(client: C, limit = MAX_CALLS_IN_FLIGHT): C {
  const slots = pLimit(limit);
  client.middlewareStack.add((next) => (args) => slots(() => next(args)), {
    step: "initialize",
    name: "batchshipCallsInFlight",
    priority: "high",
  });
  return client;
}
