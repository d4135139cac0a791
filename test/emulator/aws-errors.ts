import type { Protocol } from "./identify-call.js";
import type { Reply } from "./reply.js";

/**
 * `throttling`: a ThrottlingException (HTTP 400) in any protocol; `rate`: what the service itself
 * answers when the account's rate is exceeded — Batch HTTP 429 TooManyRequestsException
 * ("Too Many Requests"), the JSON services ThrottlingException "Rate exceeded".
 */
export type FaultKind = "throttling" | "rate" | "429" | "500";

/**
 * An error reply shaped the way the service's protocol would send it, so the SDK classifies it
 * as AWS would (throttling and 5xx are retried, with the SDK's own retry strategy).
 */
export function faultReply(protocol: Protocol, kind: FaultKind): Reply {
  const requestId = { "x-amzn-requestid": `emulator-${Math.random().toString(16).slice(2)}` };
  if (kind === "429") {
    // A bare 429, as a load balancer in front of the service might answer.
    return { status: 429, headers: { ...requestId, "content-type": "text/plain" }, body: "Too Many Requests" };
  }
  if (kind === "rate" && protocol === "restJson1") {
    return errorReply(protocol, 429, "TooManyRequestsException", "Too Many Requests", requestId);
  }
  const [status, type, message] =
    kind === "throttling" || kind === "rate"
      ? [400, "ThrottlingException", "Rate exceeded"]
      : [500, "InternalServerError", "We encountered an internal error. Please try again."];
  return errorReply(protocol, status, type, message, requestId);
}

export function errorReply(
  protocol: Protocol,
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): Reply {
  if (protocol === "awsJson1_1") {
    return {
      status,
      headers: { ...headers, "content-type": "application/x-amz-json-1.1" },
      body: JSON.stringify({ __type: type, message }),
    };
  }
  if (protocol === "query") {
    return {
      status,
      headers: { ...headers, "content-type": "text/xml" },
      body: `<ErrorResponse><Error><Type>Sender</Type><Code>${type}</Code><Message>${message}</Message></Error></ErrorResponse>`,
    };
  }
  return {
    status,
    headers: { ...headers, "content-type": "application/json", "x-amzn-errortype": type },
    body: JSON.stringify({ message }),
  };
}
