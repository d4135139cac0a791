import { z } from "zod";
import { BatchshipError } from "../../errors.js";
import { withBuiltImage } from "../job-definition.js";
import type { JobDefinitionBody } from "../ports.js";

/**
 * The release record: what runs in production for one pipeline, as a file in git. It carries the
 * whole job definition body, so git alone is enough to register the production revision again —
 * from any machine, after the candidate was deregistered, or from a record a person edited in a
 * pull request. Strict: a typo in a hand-edited record is an error, not a silent default.
 */
export const ReleaseRecord = z.strictObject({
  apiVersion: z.literal("batchship/v1"),
  kind: z.literal("ReleaseRecord"),
  pipeline: z.string().min(1),
  releaseId: z.string().min(1),
  commit: z.string().regex(/^[0-9a-f]{7,64}$/, "must be a commit sha"),
  image: z.strictObject({
    /** Wins over the body's image: editing it (and the release fields) is how a pull request promotes. */
    uri: z.string().regex(/@sha256:[0-9a-f]{64}$/, "must pin the image by digest (repo@sha256:…)"),
    digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, "must be sha256:<64 hex>"),
  }),
  candidate: z.strictObject({ arn: z.string().min(1), revision: z.number().int().positive() }).nullable(),
  canary: z.strictObject({ jobId: z.string().min(1), summary: z.record(z.string(), z.number()) }).nullable(),
  jobDefinition: z.strictObject({
    name: z.string().min(1),
    body: z.looseObject({
      type: z.enum(["container", "multinode"]),
      platformCapabilities: z.array(z.string()).min(1).optional(),
    }),
    /** The user's own tags; batchship derives its `batchship:*` tags from the record's fields. */
    tags: z.record(z.string(), z.string()).default({}),
  }),
  promotedBy: z.string().min(1),
  promotedAt: z.string().min(1),
  /** Set by `batchship rollback`: the release this record replaced. */
  rollbackOf: z.string().min(1).nullable().default(null),
});
export type ReleaseRecord = z.infer<typeof ReleaseRecord>;

/** Keeps automatic promotion of a pipeline away until a person promotes or unholds. */
export const PromotionHold = z.strictObject({
  apiVersion: z.literal("batchship/v1"),
  kind: z.literal("PromotionHold"),
  pipeline: z.string().min(1),
  reason: z.string().min(1),
  by: z.string().min(1),
  at: z.string().min(1),
});
export type PromotionHold = z.infer<typeof PromotionHold>;

export function parseRecord(text: string, where: string): ReleaseRecord {
  return parseFile(ReleaseRecord, text, where, "release record");
}

export function parseHold(text: string, where: string): PromotionHold {
  return parseFile(PromotionHold, text, where, "promotion hold");
}

/** Stable formatting, so a record's diff in a pull request shows only what changed. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The body to register: the record's body with the record's image. */
export function recordBody(record: ReleaseRecord): JobDefinitionBody {
  return withBuiltImage(record.jobDefinition.body as unknown as JobDefinitionBody, record.image.uri);
}

function parseFile<T>(schema: z.ZodType<T>, text: string, where: string, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new BatchshipError("GIT", `Could not read the ${what} ${where}: ${(error as Error).message}`, {
      hint: "fix the JSON in the releases branch (a pull request), or revert the commit that broke it",
    });
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
  throw new BatchshipError("GIT", `Could not read the ${what} ${where}: ${problems}`, {
    hint: "see docs/gitops.md for the record format",
  });
}
