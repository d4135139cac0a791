import { errorReply } from "./aws-errors.js";
import type { Interceptors } from "./interceptor.js";
import { isOk, replyJson, withJsonBody } from "./reply.js";

/** CodeBuild lists a project's builds 100 at a time. */
const PAGE_SIZE = 100;

/**
 * ListBuildsForProject as CodeBuild answers it: newest first unless told otherwise, 100 ids a
 * page with a nextToken, and a `sortOrder` refused once the project has more than 100 builds
 * (so never with a nextToken). moto returns every id, oldest first, and ignores both.
 */
export function buildListingInterceptors(): Interceptors {
  return {
    "codebuild.ListBuildsForProject": async ({ call, forward }) => {
      const { sortOrder, nextToken, ...rest } = call.input ?? {};
      const reply = await forward(rest);
      const body = replyJson(reply);
      if (!isOk(reply) || !Array.isArray(body?.ids)) return reply;
      const oldestFirst: string[] = body.ids;
      if (sortOrder !== undefined && oldestFirst.length > PAGE_SIZE) {
        return errorReply(
          call.protocol,
          400,
          "InvalidInputException",
          "sortOrder cannot be specified for a project with more than 100 builds",
        );
      }
      const ids = sortOrder === "ASCENDING" ? oldestFirst : [...oldestFirst].reverse();
      const offset = typeof nextToken === "string" ? Number(Buffer.from(nextToken, "base64url").toString()) : 0;
      if (!Number.isInteger(offset) || offset < 0 || offset > ids.length) {
        return errorReply(call.protocol, 400, "InvalidInputException", "Invalid pagination token");
      }
      const next = offset + PAGE_SIZE;
      return withJsonBody(reply, {
        ids: ids.slice(offset, next),
        ...(next < ids.length ? { nextToken: Buffer.from(String(next)).toString("base64url") } : {}),
      });
    },
  };
}
