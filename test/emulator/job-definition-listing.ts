import { errorReply } from "./aws-errors.js";
import type { Exchange, Interceptors } from "./interceptor.js";
import { isOk, replyJson, withJsonBody, type Reply } from "./reply.js";

/** DescribeJobDefinitions answers at most 100 a page, and takes at most 100 `jobDefinitions`. */
const PAGE_SIZE = 100;

type Definition = Record<string, unknown>;

/**
 * DescribeJobDefinitions as the Batch API documents it, where moto differs:
 * - by name: pages of `maxResults` (1–100, default 100) with a `nextToken`. Batch documents no
 *   order, so the layer answers oldest first (the order that helps a caller least), and applies
 *   `status` to each page after paging, so a page may hold fewer than asked, or none, and still
 *   have a next one (Batch does not document that it filters first). moto answers everything
 *   in one reply.
 * - `jobDefinitions`: up to 100 `name:revision` or ARNs, any status, alone (no other member).
 *   moto does not resolve `name:revision` at all.
 * - Batch deletes a revision 180 days after it was deregistered: from then on neither form
 *   answers it, as if it had never been registered. moto never deletes one; the revisions in
 *   `deleted` are the ones a test has aged past that.
 */
export function jobDefinitionListingInterceptors(region: string, accountId: string, deleted: ReadonlySet<string> = new Set()): Interceptors {
  const arnOf = (entry: { name: string; revision: number }) => `arn:aws:batch:${region}:${accountId}:job-definition/${entry.name}:${entry.revision}`;
  return {
    "batch.DescribeJobDefinitions": async (exchange) => {
      const input = (exchange.call.input ?? {}) as Record<string, unknown>;
      const client = (message: string) => errorReply(exchange.call.protocol, 400, "ClientException", message);
      if (Array.isArray(input["jobDefinitions"])) {
        const entries = input["jobDefinitions"] as unknown[];
        const others = Object.keys(input).filter((key) => key !== "jobDefinitions");
        if (others.length > 0) return client(`jobDefinitions can't be used with other parameters (${others.join(", ")})`);
        if (entries.length > PAGE_SIZE) return client(`jobDefinitions takes at most ${PAGE_SIZE} entries, got ${entries.length}`);
        // moto resolves ARNs (not name:revision), one by one.
        const parsed = entries.map((entry) => parseEntry(String(entry)));
        const arns = parsed.flatMap((entry) => (entry === undefined ? [] : [arnOf(entry)])).filter((arn) => !deleted.has(arn));
        return exchange.forward({ jobDefinitions: arns });
      }
      const name = input["jobDefinitionName"];
      if (typeof name !== "string") return exchange.forward();
      const maxResults = input["maxResults"] ?? PAGE_SIZE;
      if (typeof maxResults !== "number" || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > PAGE_SIZE) {
        return client(`maxResults must be between 1 and ${PAGE_SIZE}`);
      }
      const reply = await exchange.forward({ jobDefinitionName: name });
      const all = definitionsOf(reply)?.filter((definition) => !deleted.has(String(definition["jobDefinitionArn"])));
      if (all === undefined) return reply;
      const offset = tokenOffset(input["nextToken"]);
      if (offset === undefined || offset > all.length) return client("Invalid nextToken");
      const next = offset + maxResults;
      const status = input["status"];
      const page = oldestFirst(all)
        .slice(offset, next)
        .filter((definition) => status === undefined || definition["status"] === status);
      return withJsonBody(reply, {
        jobDefinitions: page,
        ...(next < all.length ? { nextToken: Buffer.from(String(next)).toString("base64url") } : {}),
      });
    },
  };
}

/** `name:revision` or an ARN ending in `job-definition/name:revision`. */
function parseEntry(entry: string): { name: string; revision: number } | undefined {
  const match = /(?:^|:job-definition\/)([A-Za-z0-9_-]{1,128}):(\d+)$/.exec(entry);
  return match === null ? undefined : { name: match[1] as string, revision: Number(match[2]) };
}

function definitionsOf(reply: Reply): Definition[] | undefined {
  const body = replyJson(reply);
  return isOk(reply) && Array.isArray(body?.jobDefinitions) ? (body.jobDefinitions as Definition[]) : undefined;
}

function oldestFirst(definitions: Definition[]): Definition[] {
  return [...definitions].sort((a, b) => Number(a["revision"]) - Number(b["revision"]));
}

function tokenOffset(token: unknown): number | undefined {
  if (token === undefined) return 0;
  const offset = Number(Buffer.from(String(token), "base64url").toString());
  return Number.isInteger(offset) && offset >= 0 ? offset : undefined;
}
