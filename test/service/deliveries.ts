import { randomUUID } from "node:crypto";
import { Webhooks } from "@octokit/webhooks";
import examples from "@octokit/webhooks-examples";

type Example = { name: string; examples: Array<Record<string, unknown>> };
const EXAMPLES = examples as unknown as Example[];

/** One of GitHub's own example payloads (from @octokit/webhooks-examples), deep-copied. */
export function examplePayload(event: string, index = 0): Record<string, any> {
  const found = EXAMPLES.find((e) => e.name === event)?.examples[index];
  if (found === undefined) throw new Error(`no example ${index} for ${event}`);
  return structuredClone(found) as Record<string, any>;
}

/** GitHub's example push, rewritten to a branch push of `after` to `repository`. */
export function pushPayload(repository: string, after: string, branch = "main"): Record<string, any> {
  const push = examplePayload("push", 4); // refs/heads/master, created
  push.ref = `refs/heads/${branch}`;
  push.after = after;
  push.head_commit.id = after;
  push.repository.full_name = repository;
  push.repository.name = repository.split("/")[1];
  return push;
}

export interface Signed {
  body: string;
  headers: Record<string, string>;
}

export function signDelivery(secret: string, event: string, payload: unknown, id: string = randomUUID()): Promise<Signed> {
  return signBody(secret, event, JSON.stringify(payload), id);
}

/** Signs any text as a delivery body (malformed JSON included). */
export async function signBody(secret: string, event: string, body: string, id: string = randomUUID()): Promise<Signed> {
  const signature = await new Webhooks({ secret }).sign(body);
  return {
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": id,
      "x-hub-signature-256": signature,
      "user-agent": "GitHub-Hookshot/test",
    },
  };
}

export async function post(url: string, signed: Signed): Promise<Response> {
  return fetch(`${url}/webhook`, { method: "POST", headers: signed.headers, body: signed.body });
}
