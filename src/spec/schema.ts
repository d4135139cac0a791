import { z } from "zod";

/**
 * Pipeline spec v1. This file is the single source of the spec: the TypeScript type, the
 * validator and pipelines/schema.json are all derived from it. Field names are a user-facing
 * contract: add fields freely, never rename.
 *
 * Every object is strict: an unknown key is an error, so a typo cannot silently disable a setting.
 */

const NAME = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const GITHUB_REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
// AWS Batch: job definition and queue names are up to 128 letters, digits, hyphens, underscores.
const BATCH_NAME = /^[A-Za-z0-9_-]{1,128}$/;
// ECR repository name, or a full image reference without tag/digest.
const IMAGE_REPOSITORY = /^(?:[a-z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:[._\/-][a-z0-9]+)*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TAG_TEMPLATE = /^(?:[A-Za-z0-9_.-]|\{(?:sha|shortSha|branch)\})+$/;

const stringMap = (what: string) =>
  z.record(z.string(), z.string(), { error: `${what} must map names to strings` });

const relativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith("/") && !p.split("/").includes(".."), {
    message: "must be a path inside the repository (relative, no '..')",
  });

export const SourceSpec = z.strictObject({
  repository: z.string().regex(GITHUB_REPOSITORY, "must be a GitHub repository as owner/name"),
  branches: z
    .array(z.string().min(1))
    .min(1, "list at least one branch (glob patterns such as 'release/*' are allowed)")
    .default(["main"]),
  url: z.string().min(1).optional().describe("Clone URL; defaults to the GitHub HTTPS URL"),
});

export const ImageSpec = z.strictObject({
  repository: z
    .string()
    .regex(IMAGE_REPOSITORY, "must be an ECR repository name (etl) or an image URI without tag")
    .describe("ECR repository name (created if missing, tags IMMUTABLE) or a full image URI"),
  context: relativePath.default("."),
  dockerfile: relativePath.default("Dockerfile"),
  buildArgs: stringMap("buildArgs").default({}),
  tags: z
    .array(z.string().regex(TAG_TEMPLATE, "may use letters, digits, '._-' and {sha} {shortSha} {branch}"))
    .min(1)
    .refine((tags) => tags[0]?.includes("{sha}") ?? false, {
      message: "the first tag must contain {sha}: it is how a build is found again",
    })
    .default(["{sha}", "{branch}-{shortSha}"]),
});

export const BuildSpec = z.strictObject({
  backend: z.literal("codebuild").default("codebuild"),
  project: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/, "must be a CodeBuild project name"),
  timeoutMinutes: z.number().int().min(5).max(2160).default(60),
});

/** Free-form AWS shapes are passed through to RegisterJobDefinition; batchship sets the image. */
const awsObject = (what: string) =>
  z.record(z.string(), z.unknown(), { error: `${what} must be a mapping` });

export const JobDefinitionSpec = z.strictObject({
  name: z.string().regex(BATCH_NAME, "must be 1-128 letters, digits, '-' or '_'"),
  platformCapabilities: z.array(z.enum(["EC2", "FARGATE"])).min(1).max(1).default(["EC2"]),
  containerProperties: awsObject("containerProperties")
    .refine((c) => !("image" in c), { message: "must not set image: batchship pins the built image" })
    .default({}),
  retryStrategy: awsObject("retryStrategy").default({}),
  timeout: awsObject("timeout").default({}),
  parameters: stringMap("parameters").default({}),
  tags: stringMap("tags")
    .refine((t) => Object.keys(t).every((k) => !k.startsWith("batchship:")), {
      message: "tags starting with 'batchship:' are reserved",
    })
    .default({}),
});

export const CanarySpec = z
  .strictObject({
    jobQueue: z.string().regex(BATCH_NAME, "must be a job queue name"),
    arraySize: z.number().int().min(1).max(10_000).default(3),
    timeoutMinutes: z.number().positive().max(10_080).default(30),
    runnableTimeoutMinutes: z.number().positive().default(10),
    fallbackJobQueue: z.string().regex(BATCH_NAME, "must be a job queue name").optional(),
    minSuccessRate: z.number().min(0).max(1).default(1),
    parameters: stringMap("parameters").default({}),
    environment: z
      .record(z.string().regex(ENV_NAME, "must be an environment variable name"), z.string())
      .default({}),
  })
  .refine((c) => c.runnableTimeoutMinutes <= c.timeoutMinutes, {
    message: "runnableTimeoutMinutes must not exceed timeoutMinutes",
    path: ["runnableTimeoutMinutes"],
  })
  .refine((c) => c.fallbackJobQueue === undefined || c.fallbackJobQueue !== c.jobQueue, {
    message: "fallbackJobQueue must differ from jobQueue",
    path: ["fallbackJobQueue"],
  });

export const PromotionSpec = z.strictObject({
  mode: z.enum(["auto", "manual"]).default("auto"),
});

export const PipelineSpec = z.strictObject({
  apiVersion: z.literal("batchship/v1", { error: "must be batchship/v1" }),
  name: z.string().regex(NAME, "must be lowercase letters, digits and '-', at most 64"),
  source: SourceSpec,
  image: ImageSpec,
  build: BuildSpec,
  jobDefinition: JobDefinitionSpec,
  canary: CanarySpec,
  promotion: PromotionSpec.default({ mode: "auto" }),
});

export type PipelineSpec = z.infer<typeof PipelineSpec>;
export type CanarySpec = z.infer<typeof CanarySpec>;
export type JobDefinitionSpec = z.infer<typeof JobDefinitionSpec>;
export type ImageSpec = z.infer<typeof ImageSpec>;
