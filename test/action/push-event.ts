import { createRequire } from "node:module";

interface WebhookExamples {
  name: string;
  examples: Record<string, unknown>[];
}

const examples = createRequire(import.meta.url)("@octokit/webhooks-examples") as WebhookExamples[];

/**
 * A real push payload from GitHub's examples, pointed at our commit and branch. `message` is the
 * head commit's message: untrusted text the summary has to escape.
 */
export function pushEvent(options: { sha: string; ref: string; message: string }): Record<string, unknown> {
  const push = examples.find((e) => e.name === "push")?.examples.find((e) => e["head_commit"] !== null);
  if (push === undefined) throw new Error("@octokit/webhooks-examples has no push example with a head commit");
  const payload = structuredClone(push);
  const head = payload["head_commit"] as Record<string, unknown>;
  payload["ref"] = options.ref;
  payload["after"] = options.sha;
  payload["head_commit"] = { ...head, id: options.sha, message: options.message };
  return payload;
}
