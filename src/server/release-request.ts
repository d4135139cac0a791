import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { createBodyBudget } from "./body-budget.js";
import { HttpError } from "./http-error.js";
import { readBody } from "./read-body.js";

/** `POST /api/pipelines/:name/releases`: release a tracked branch's head, optionally building its image anew. */
export const ReleaseRequest = z
  .object({
    commit: z.string().regex(/^[0-9a-f]{40}$/, "expected a full 40-character lowercase hex sha"),
    /** Which tracked branch the commit heads; needed only when it heads several. */
    branch: z.string().min(1).max(255).optional(),
    /** Build even when an image with the same content exists (a base image moved on). */
    rebuild: z.boolean().default(false),
  })
  .strict();
export type ReleaseRequest = z.infer<typeof ReleaseRequest>;

/** A release request is a few hundred bytes; the bodies held at once stay small whatever the callers do. */
const REQUEST_LIMIT_BYTES = 4096;
const budget = createBodyBudget(64 * REQUEST_LIMIT_BYTES);

/** Reads and validates the body; a 400 says what is wrong and where (`rebuild: expected boolean`). */
export async function readReleaseRequest(request: IncomingMessage): Promise<ReleaseRequest> {
  const held = await readBody(request, { limit: REQUEST_LIMIT_BYTES, budget });
  let json: unknown;
  try {
    json = JSON.parse(held.body.toString("utf8"));
  } catch {
    throw new HttpError(400, "BAD_RELEASE_REQUEST", 'The body is not JSON; send {"commit": "<40-hex sha>", "rebuild": true}');
  } finally {
    held.release();
  }
  const parsed = ReleaseRequest.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.length === 0 ? "body" : issue.path.join(".")}: ${issue.message}`);
    throw new HttpError(400, "BAD_RELEASE_REQUEST", `Invalid release request: ${problems.join("; ")}`);
  }
  return parsed.data;
}
