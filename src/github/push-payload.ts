import { z } from "zod";

const SHA = /^[0-9a-f]{40}$/;

/**
 * The part of a `push` payload the service relies on. Everything else GitHub sends is ignored,
 * so new fields never break it; a payload without these is malformed.
 */
export const PushPayload = z.object({
  ref: z.string().min(1),
  after: z.string().regex(SHA, "must be a 40-character commit sha"),
  // Optional: only the copy check (plan-delivery.ts) reads it.
  before: z.string().regex(SHA).optional().catch(undefined),
  deleted: z.boolean().default(false),
  repository: z.object({
    full_name: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must be owner/name"),
    clone_url: z.string().optional(),
  }),
  // Only the messages, for loop prevention (batchship's own record commits). Lenient: a payload
  // whose commits are shaped unexpectedly is still a push, just one without known messages.
  head_commit: z.object({ message: z.string() }).nullish().catch(null),
  commits: z.array(z.object({ message: z.string() })).optional().catch(undefined),
});
export type PushPayload = z.infer<typeof PushPayload>;

export type PushNarrowing = { ok: true; push: PushPayload } | { ok: false; problems: string[] };

export function narrowPush(payload: unknown): PushNarrowing {
  const parsed = PushPayload.safeParse(payload);
  if (parsed.success) return { ok: true, push: parsed.data };
  return { ok: false, problems: parsed.error.issues.map((issue) => `${issue.path.join(".") || "(payload)"}: ${issue.message}`) };
}

/** `refs/heads/release/1.2` → `release/1.2`; tags and other refs are not branches. */
export function branchOfRef(ref: string): string | undefined {
  return ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : undefined;
}

export const DELETED_SHA = "0".repeat(40);
