import { z } from "zod";
import { parseSourceUrl } from "./source-url.js";
import { CanarySubmission } from "./canary-submission.js";
import { JobDefinitionSpec } from "./job-definition/job-definition-spec.js";
import { whenFieldsValid } from "./when-fields-valid.js";
import { NEWEST_WINDOW } from "../release/ports.js";

export { JobDefinitionSpec } from "./job-definition/job-definition-spec.js";

/**
 * Pipeline spec v1. This file is the single source of the spec: the TypeScript type, the
 * validator and pipelines/schema.json are all derived from it. Field names are a user-facing
 * contract: add fields freely, never rename.
 *
 * Every object is strict: an unknown key is an error, so a typo cannot silently disable a setting.
 * Refinements carry a `path` to the offending entry so the loader can point at its line.
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
  })
  // It reaches the build tool's command line: it must never read as an option.
  .refine((p) => !p.startsWith("-"), { message: "must not start with '-'" });

export const SourceSpec = z
  .strictObject({
    repository: z
      .string()
      .regex(GITHUB_REPOSITORY, "must be a GitHub repository as owner/name")
      .describe("GitHub repository whose pushes trigger releases, as owner/name"),
    branches: z
      .array(z.string().min(1))
      .min(1, "list at least one branch (glob patterns such as 'release/*' are allowed)")
      .default(["main"])
      .describe("Branches that release; globs such as 'release/*' are allowed, '!pattern' excludes"),
    url: z
      .string()
      .min(1)
      .superRefine((url, context) => {
        const parsed = parseSourceUrl(url);
        if ("problem" in parsed) context.addIssue({ code: "custom", message: parsed.problem });
      })
      .optional()
      .describe("Clone URL (https, ssh, or file where the service allows it), without credentials; defaults to the GitHub HTTPS URL"),
  })
  .describe("Where the code comes from");

export const ImageSpec = z
  .strictObject({
    repository: z
      .string()
      .regex(IMAGE_REPOSITORY, "must be an ECR repository name (etl) or an image URI without tag")
      .describe(
        "ECR repository name (created if missing, tags IMMUTABLE) or a full image URI; with build.backend local, a full reference to any OCI registry (127.0.0.1:5000/etl)",
      ),
    context: relativePath.default(".").describe("Build context folder, relative to the repository root"),
    dockerfile: relativePath
      .default("Dockerfile")
      .describe("Dockerfile path, relative to the repository root"),
    // BUILD_ARGS reaches the build as newline-separated KEY=VALUE lines.
    buildArgs: z
      .record(
        z.string().regex(ENV_NAME, "must be a build argument name (letters, digits, '_')"),
        z.string().refine((v) => !/[\r\n]/.test(v), { message: "must be a single line" }),
        { error: "buildArgs must map names to strings" },
      )
      .default({})
      .describe("Docker build arguments (KEY: value)"),
    tags: z
      .array(
        z.string().regex(TAG_TEMPLATE, "may use letters, digits, '._-' and {sha} {shortSha} {branch}"),
      )
      .min(1)
      .refine((tags) => tags[0]?.includes("{sha}") ?? true, {
        message: "the first tag must contain {sha}: it is how a build is found again",
        path: [0],
      })
      // `promote` finds the image from the commit alone, possibly on another machine.
      .refine((tags) => !(tags[0]?.includes("{branch}") ?? false), {
        message: "the first tag must not contain {branch}: it must name the commit alone",
        path: [0],
      })
      .default(["{sha}", "{branch}-{shortSha}"])
      .describe("Tag templates; the first must contain {sha}. Placeholders: {sha} {shortSha} {branch}"),
  })
  .describe("The container image to build and push");

const BUILD_TIMEOUT_MINUTES = z
  .number()
  .int()
  .min(5)
  .max(2160)
  .default(60)
  .describe("Build timeout in minutes (CodeBuild allows 5-2160)");

const BUILD_REUSE = z
  .boolean()
  .default(true)
  .describe(
    "Reuse an image already built from the same content (build context, Dockerfile, build arguments, build definition) instead of building again; false builds every commit",
  );

const CodeBuildBuildSpec = z
  .strictObject({
    backend: z.literal("codebuild").default("codebuild").describe("AWS CodeBuild, pushing to Amazon ECR"),
    project: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/, "must be a CodeBuild project name")
      .describe("CodeBuild project that runs the shipped buildspec.yml"),
    timeoutMinutes: BUILD_TIMEOUT_MINUTES,
    reuse: BUILD_REUSE,
  })
  .describe("Build with AWS CodeBuild");

const LocalBuildSpec = z
  .strictObject({
    backend: z
      .literal("local")
      .describe("This machine: the first working of docker, podman, buildah; pushes to any OCI registry"),
    // Always present in the parsed spec so the engine can label any build the same way.
    project: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/, "must be letters, digits, '-' or '_'")
      .default("local")
      .describe("Label of local builds (the prefix of their build ids)"),
    timeoutMinutes: BUILD_TIMEOUT_MINUTES.describe("Build timeout in minutes; the local builder is stopped then"),
    reuse: BUILD_REUSE,
  })
  .describe("Build on this machine");

// `backend` may be left out: it then means codebuild, as before the local backend existed.
export const BuildSpec = z
  .discriminatedUnion("backend", [CodeBuildBuildSpec, LocalBuildSpec], {
    // Only for an unknown backend; other problems (build left empty…) keep their own message.
    error: (issue) => (issue.code === "invalid_union" ? "must be codebuild or local" : undefined),
  })
  .describe("How the image is built");

export const CanarySpec = z
  .strictObject({
    jobQueue: z
      .string()
      .regex(BATCH_NAME, "must be a job queue name")
      .describe("Job queue the canary array job is submitted to"),
    arraySize: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(3)
      .describe("Number of canary children (AWS Batch array size, 1 runs a single job)"),
    timeoutMinutes: z
      .number()
      .positive()
      .max(10_080)
      .default(30)
      .describe("Time limit for the whole canary, in minutes"),
    runnableTimeoutMinutes: z
      .number()
      .positive()
      .default(10)
      .describe("How long the canary may wait in RUNNABLE before it is cancelled (or moved to the fallback queue)"),
    fallbackJobQueue: z
      .string()
      .regex(BATCH_NAME, "must be a job queue name")
      .optional()
      .describe("Queue to resubmit to when the canary is stuck in RUNNABLE"),
    minSuccessRate: z
      .number()
      .min(0)
      .max(1)
      .default(1)
      .describe("Fraction of children that must succeed, 0-1"),
    parameters: stringMap("parameters").default({}).describe("Job parameters for the canary"),
    environment: z
      .record(z.string().regex(ENV_NAME, "must be an environment variable name"), z.string())
      .default({})
      .describe("Extra environment variables for the canary's containers (those that run the built image)"),
    ...CanarySubmission.shape,
  })
  .refine((c) => c.runnableTimeoutMinutes <= c.timeoutMinutes, {
    message: "runnableTimeoutMinutes must not exceed timeoutMinutes",
    path: ["runnableTimeoutMinutes"],
    when: whenFieldsValid("runnableTimeoutMinutes", "timeoutMinutes"),
  })
  .refine((c) => c.fallbackJobQueue === undefined || c.fallbackJobQueue !== c.jobQueue, {
    message: "fallbackJobQueue must differ from jobQueue",
    path: ["fallbackJobQueue"],
    when: whenFieldsValid("fallbackJobQueue", "jobQueue"),
  })
  .describe("The canary array job that must pass before promotion");

export const GitOpsSpec = z
  .strictObject({
    repository: z
      .string()
      .min(1)
      // Credentials come from BATCHSHIP_GIT_TOKEN or the SSH agent; a URL ends up in logs.
      .refine((url) => !/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(url), {
        message: "must not contain credentials: set BATCHSHIP_GIT_TOKEN or use an SSH agent",
      })
      .optional()
      .describe("Clone URL of the repository holding release records; default: the origin of the repository holding this pipeline file"),
    branch: z
      .string()
      .regex(/^(?!-)(?!.*\.\.)[A-Za-z0-9._\/-]+$/, "must be a branch name")
      .default("batchship/releases")
      .describe("Branch the release records are committed to; pushes to it are reconciled, never released"),
    path: relativePath
      .refine((p) => p.endsWith(".json"), { message: "must end with .json" })
      .default("releases/{pipeline}.json")
      .describe("Record file in that branch; {pipeline} is the pipeline name. The hold lives beside it as <name>.hold.json"),
  })
  .describe("GitOps: promotions, rollbacks and holds are commits to a release record in git, and Batch is made to match it");

export const PromotionSpec = z
  .strictObject({
    mode: z
      .enum(["auto", "manual"])
      .default("auto")
      .describe("auto: promote when the canary passes; manual: wait for `batchship promote`"),
    gitops: GitOpsSpec.optional(),
  })
  .describe("How a passing candidate becomes the production revision");

/** Defaults of `retention`: about a day of candidates at 20 commits a day, ten promotions back. */
export const DEFAULT_RETENTION = { candidates: 20, production: 10 } as const;
// A release looks things up among the newest NEWEST_WINDOW revision numbers: what retention keeps
// as newest stays within them.
const RETENTION_MAX = NEWEST_WINDOW;

export const RetentionSpec = z
  .strictObject({
    candidates: z
      .number()
      .int()
      .min(1)
      .max(RETENTION_MAX)
      .default(DEFAULT_RETENTION.candidates)
      .describe("Newest <name>-canary revisions kept; older ones are deregistered unless a release still needs them"),
    production: z
      .number()
      .int()
      .min(2)
      .max(RETENTION_MAX)
      .default(DEFAULT_RETENTION.production)
      .describe("Newest production revisions kept (at least 2, so a rollback has a target); the rollback target and what git records are always kept"),
  })
  .describe("How many job definition revisions stay ACTIVE; retention runs after each release and from `batchship prune`");

export const PipelineSpec = z.strictObject({
  apiVersion: z.literal("batchship/v1", { error: "must be batchship/v1" }).describe("Spec version"),
  name: z
    .string()
    .regex(NAME, "must be lowercase letters, digits and '-', at most 64")
    .describe("Pipeline name, unique per repository"),
  source: SourceSpec,
  image: ImageSpec,
  build: BuildSpec,
  jobDefinition: JobDefinitionSpec,
  canary: CanarySpec,
  promotion: PromotionSpec.default({ mode: "auto" }),
  retention: RetentionSpec.default(DEFAULT_RETENTION),
})
  // The local job platform runs images from the machine's builder and registry; the codebuild
  // backend pushes to ECR, which local containers cannot pull without AWS credentials.
  .refine((spec) => (spec.build.backend === "local") === (spec.jobDefinition.platform === "local"), {
    message: "jobDefinition.platform local and build.backend local go together",
    path: ["jobDefinition", "platform"],
    when: whenFieldsValid("build", "jobDefinition"),
  })
  .refine((spec) => spec.jobDefinition.nodeProperties === undefined || spec.canary.arraySize === 1, {
    message: "must be 1 with jobDefinition.nodeProperties: Batch runs no array of multi-node parallel jobs, so the canary is one job",
    path: ["canary", "arraySize"],
    when: whenFieldsValid("canary", "jobDefinition"),
  });

export type PipelineSpec = z.infer<typeof PipelineSpec>;
export type CanarySpec = z.infer<typeof CanarySpec>;
export type ImageSpec = z.infer<typeof ImageSpec>;
