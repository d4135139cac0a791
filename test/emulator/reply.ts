/** An HTTP answer the layer sends back to the SDK: moto's, rewritten, or made up by a fault. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  };
}

/** The reply's body as JSON, or undefined when it is empty or not JSON (moto answers HTML on its own crashes). */
export function replyJson(reply: Reply): any {
  if (reply.body === "") return undefined;
  try {
    return JSON.parse(reply.body);
  } catch {
    return undefined;
  }
}

/** Same reply, new JSON body (headers kept: content-type and request id matter to the SDK). */
export function withJsonBody(reply: Reply, body: unknown): Reply {
  return { ...reply, body: JSON.stringify(body) };
}

export function isOk(reply: Reply): boolean {
  return reply.status >= 200 && reply.status < 300;
}
