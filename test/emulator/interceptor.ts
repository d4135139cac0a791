import type { AwsCall } from "./identify-call.js";
import type { Reply } from "./reply.js";

/** One call passing through the layer, for an interceptor to forward, rewrite or answer itself. */
export interface Exchange {
  call: AwsCall;
  /** Sends the call to moto, with `input` as the new JSON body when given. */
  forward(input?: unknown): Promise<Reply>;
}

/** What the layer adds to one operation (keyed `service.Operation`, or `service.*`). */
export type Interceptor = (exchange: Exchange) => Promise<Reply>;
export type Interceptors = Record<string, Interceptor>;

export function interceptorFor(interceptors: Interceptors, call: AwsCall): Interceptor {
  return interceptors[`${call.service}.${call.operation}`] ?? interceptors[`${call.service}.*`] ?? ((exchange) => exchange.forward());
}

/** Both layers of interceptors: `outer` sees a call first and its forward goes through `inner`. */
export function chain(outer: Interceptors, inner: Interceptors): Interceptors {
  const chained: Interceptors = { ...inner };
  for (const [key, interceptor] of Object.entries(outer)) {
    const next = inner[key];
    chained[key] = next === undefined ? interceptor : (exchange) => interceptor({ ...exchange, forward: (input) => next({ ...exchange, forward: () => exchange.forward(input) }) });
  }
  return chained;
}
