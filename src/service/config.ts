import { statSync } from "node:fs";
import { isIP } from "node:net";
import { resolve } from "node:path";
import { z } from "zod";
import { BatchshipError } from "../errors.js";
import { largestBodyFor } from "../server/body-budget.js";
import type { LogLevel } from "../server/logger.js";

/** Everything `batchship serve` is configured with, read once at start. */
export interface ServiceConfig {
  host: string;
  port: number;
  /** Folder with the pipeline files (`*.yml`), in a checkout of the config repository. */
  pipelinesDir: string;
  /** owner/name of the config repository: a push to it reloads the pipelines. */
  configRepository: string | undefined;
  /** The store (`batchship.sqlite`) and the bare mirrors live here. */
  dataDir: string;
  /** fsync every store commit (full) or leave it to WAL checkpoints (normal). */
  storeSync: "full" | "normal";
  webhookSecrets: string[];
  githubToken: string | undefined;
  githubApiUrl: string;
  /** Web URL of GitHub (or GitHub Enterprise): default clone URLs, and where the token is sent. */
  githubUrl: string;
  apiToken: string | undefined;
  /** When set, reading releases through the API needs it (or the API token). */
  readToken: string | undefined;
  /** GitOps: the token git sends for release records (the ledger reads it from the environment); here so logs redact it. */
  gitToken: string | undefined;
  /** Base of the links in commit statuses. */
  publicUrl: string | undefined;
  pollIntervalMs: number;
  /**
   * SQS queues the pipelines' EventBridge rules send Batch job and CodeBuild build state changes
   * to (infra/batchship-pipeline.yml, EventsQueue true; one per stack). With them, a build's or a
   * canary's end is learnt of from a queue and polls drop to `eventsSafetyNetMs`. Empty: none.
   */
  eventsQueueUrls: string[];
  /** With an events queue: the longest wait between polls of a build or canary when no event comes. */
  eventsSafetyNetMs: number;
  concurrency: number;
  maxBodyBytes: number;
  /** Request body bytes held at once across every connection (body-budget.ts). */
  bodyBudgetBytes: number;
  /** Open connections at once; more are closed as they arrive. */
  maxConnections: number;
  reportRetryMs: number;
  /** Days of history (deliveries, stage events, sent statuses, finished reconciles) the store keeps. */
  retentionDays: number;
  shutdownGraceMs: number;
  /** How often every pipeline's branch heads are compared with what was queued (missed webhooks). */
  catchUpIntervalMs: number;
  logLevel: LogLevel;
  /** file:// sources (repositories of this machine) may be fetched: one-machine setups and tests. */
  allowFileSources: boolean;
}

/** The flags commander hands over, as typed by the user. */
export type ServeFlags = Partial<Record<string, string>>;

interface Setting<K extends keyof ServiceConfig> {
  key: K;
  flag?: string;
  env: string;
  schema: z.ZodType<ServiceConfig[K]>;
}

const text = z.string().trim().min(1, "must not be empty");
const optionalText = z.string().trim().min(1, "must not be empty").optional();
const int = (min: number, max: number) => z.coerce.number().int("must be a whole number").min(min).max(max);
/** Seconds from `min` to `max`, kept as milliseconds; a bad value is refused, naming it. */
const seconds = (min: number, max: number) =>
  z.string().transform((text, context) => {
    const value = Number(text);
    if (Number.isFinite(value) && value >= min && value <= max) return Math.round(value * 1000);
    context.addIssue({ code: "custom", message: `must be from ${min} to ${max} seconds (got ${text})` });
    return z.NEVER;
  });
/**
 * The floor of the poll and report-retry intervals: below it a slip (0.01 for 10) would poll AWS
 * or re-send to GitHub many times a second. BATCHSHIP_ALLOW_SHORT_INTERVALS=1 lowers it for tests
 * against emulators. The ceiling keeps every timer (a report retry doubles up to 64×) well
 * inside what setTimeout holds; past that it would fire at once.
 */
const MIN_INTERVAL_SECONDS = 1;
const TEST_MIN_INTERVAL_SECONDS = 0.01;
const MAX_SECONDS = 3600;
const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).transform((u) => u.replace(/\/+$/, ""));
/**
 * An SQS queue URL: http(s), then the account id and the queue name, as GetQueueUrl and the
 * template's output give it. Checked here so a typo stops the start before anything is made.
 */
const isQueueUrl = (text: string): boolean =>
  URL.canParse(text) && /^https?:$/.test(new URL(text).protocol) && /^\/\d{12}\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/.test(new URL(text).pathname);
/** Comma-separated: a service of several pipelines reads the queue of each one's stack. */
const queueUrls = z
  .string()
  .transform((text) => [...new Set(text.split(",").map((part) => part.trim()).filter(Boolean))])
  .refine((urls) => urls.every(isQueueUrl), {
    error: "must be SQS queue URLs (comma-separated) ending in /<12-digit account id>/<queue name>, as the stack output EventsQueueUrl gives them",
  });
const secretList = z
  .string({ error: "is required: the service refuses to run without a webhook secret" })
  .transform((s) => s.split(",").map((part) => part.trim()).filter(Boolean))
  .pipe(z.array(z.string()).min(1, "is required: the service refuses to run without a webhook secret"));

/** Every setting; `minInterval` is the floor of the poll and report-retry intervals, in seconds. */
const settings = (minInterval: number) => [
  {
    key: "host",
    flag: "--host",
    env: "BATCHSHIP_HOST",
    schema: text.refine((h) => isIP(h) !== 0 || /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(h), "must be an IP address or a host name").default("0.0.0.0"),
  },
  { key: "port", flag: "--port", env: "BATCHSHIP_PORT", schema: int(0, 65535).default(8080) },
  { key: "pipelinesDir", flag: "--pipelines", env: "BATCHSHIP_PIPELINES", schema: text.transform((p) => resolve(p)) },
  {
    key: "configRepository",
    flag: "--config-repository",
    env: "BATCHSHIP_CONFIG_REPOSITORY",
    schema: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must be owner/name").optional(),
  },
  { key: "dataDir", flag: "--data-dir", env: "BATCHSHIP_DATA_DIR", schema: text.default("batchship-data").transform((p) => resolve(p)) },
  { key: "storeSync", flag: "--store-sync", env: "BATCHSHIP_STORE_SYNC", schema: z.enum(["full", "normal"]).default("full") },
  // Secrets come only from the environment: flags show up in `ps`.
  { key: "webhookSecrets", env: "BATCHSHIP_WEBHOOK_SECRET", schema: secretList },
  { key: "githubToken", env: "BATCHSHIP_GITHUB_TOKEN", schema: optionalText },
  { key: "apiToken", env: "BATCHSHIP_API_TOKEN", schema: z.string().min(16, "must be at least 16 characters").optional() },
  { key: "readToken", env: "BATCHSHIP_READ_TOKEN", schema: z.string().min(16, "must be at least 16 characters").optional() },
  { key: "gitToken", env: "BATCHSHIP_GIT_TOKEN", schema: optionalText },
  { key: "githubApiUrl", flag: "--github-api-url", env: "BATCHSHIP_GITHUB_API_URL", schema: httpUrl.default("https://api.github.com") },
  { key: "githubUrl", flag: "--github-url", env: "BATCHSHIP_GITHUB_URL", schema: httpUrl.default("https://github.com") },
  { key: "publicUrl", flag: "--public-url", env: "BATCHSHIP_PUBLIC_URL", schema: httpUrl.optional() },
  { key: "pollIntervalMs", flag: "--poll-interval", env: "BATCHSHIP_POLL_INTERVAL", schema: seconds(minInterval, MAX_SECONDS).default(15_000) },
  { key: "eventsQueueUrls", flag: "--events-queue-url", env: "BATCHSHIP_EVENTS_QUEUE_URL", schema: queueUrls.default([]) },
  // Events are lost now and then (a rule edited, a queue purged): this bounds what a loss costs.
  { key: "eventsSafetyNetMs", flag: "--events-safety-net", env: "BATCHSHIP_EVENTS_SAFETY_NET", schema: seconds(minInterval, MAX_SECONDS).default(300_000) },
  // A release in flight mostly waits: 1,000 at once is measured in docs/benchmarks.md ("Service scale").
  { key: "concurrency", flag: "--concurrency", env: "BATCHSHIP_CONCURRENCY", schema: int(1, 2048).default(8) },
  { key: "maxBodyBytes", flag: "--max-body-bytes", env: "BATCHSHIP_MAX_BODY_BYTES", schema: int(1024, 100 * 1024 * 1024).default(25 * 1024 * 1024) },
  { key: "bodyBudgetBytes", flag: "--body-budget-bytes", env: "BATCHSHIP_BODY_BUDGET_BYTES", schema: int(4 * 1024 * 1024, 4 * 1024 * 1024 * 1024).default(64 * 1024 * 1024) },
  { key: "maxConnections", flag: "--max-connections", env: "BATCHSHIP_MAX_CONNECTIONS", schema: int(16, 65_535).default(512) },
  // At least a week: GitHub redelivers up to three days back, and a redelivery must still be known.
  { key: "retentionDays", flag: "--retention-days", env: "BATCHSHIP_RETENTION_DAYS", schema: int(7, 3650).default(30) },
  { key: "reportRetryMs", flag: "--report-retry", env: "BATCHSHIP_REPORT_RETRY", schema: seconds(minInterval, MAX_SECONDS).default(5_000) },
  // Under a second, a release would be cut off in the middle of its current AWS call.
  { key: "shutdownGraceMs", flag: "--shutdown-grace", env: "BATCHSHIP_SHUTDOWN_GRACE", schema: seconds(1, MAX_SECONDS).default(60_000) },
  // Each round is one `git ls-remote` per pipeline: cheap, but a git host is spared more than one a minute.
  { key: "catchUpIntervalMs", flag: "--catch-up-interval", env: "BATCHSHIP_CATCH_UP_INTERVAL", schema: seconds(minInterval * 60, MAX_SECONDS).default(300_000) },
  { key: "logLevel", flag: "--log-level", env: "BATCHSHIP_LOG_LEVEL", schema: z.enum(["debug", "info", "warn", "error"]).default("info") },
  {
    key: "allowFileSources",
    env: "BATCHSHIP_ALLOW_FILE_SOURCES",
    schema: z.enum(["0", "1"], { error: "must be 1 (allow) or 0" }).default("0").transform((v) => v === "1"),
  },
] as const satisfies readonly Setting<keyof ServiceConfig>[];

/**
 * Flags win over environment variables. Every bad value is reported, each naming its flag and
 * variable, before anything starts.
 */
export function readServiceConfig(flags: ServeFlags, env: Readonly<Record<string, string | undefined>>): ServiceConfig {
  const config: Record<string, unknown> = {};
  const problems: string[] = [];
  const minInterval = env.BATCHSHIP_ALLOW_SHORT_INTERVALS === "1" ? TEST_MIN_INTERVAL_SECONDS : MIN_INTERVAL_SECONDS;
  for (const setting of settings(minInterval) as readonly Setting<keyof ServiceConfig>[]) {
    const fromFlag = setting.flag === undefined ? undefined : flags[flagKey(setting.flag)];
    const raw = fromFlag ?? emptyToUndefined(env[setting.env]);
    const parsed = setting.schema.safeParse(raw);
    if (parsed.success) config[setting.key] = parsed.data;
    else {
      const name = setting.flag ? `${setting.flag} / ${setting.env}` : setting.env;
      const message = parsed.error.issues[0]?.message ?? "is invalid";
      problems.push(raw === undefined && !message.startsWith("is required") ? `${name} is required` : `${name} ${message}`);
    }
  }
  if (problems.length === 0) problems.push(...crossChecks(config as unknown as ServiceConfig));
  if (problems.length > 0) {
    throw new BatchshipError("USAGE", `Could not start the service: ${problems.join("; ")}`, {
      hint: "see docs/service.md for every setting",
    });
  }
  return config as unknown as ServiceConfig;
}

/**
 * Settings that are each valid but do not fit together, or name folders that cannot be: checked
 * before the service creates anything (data dir, store, mirrors, a listening port).
 */
function crossChecks(config: ServiceConfig): string[] {
  const problems: string[] = [];
  const largest = largestBodyFor(config.bodyBudgetBytes);
  if (config.maxBodyBytes > largest) {
    problems.push(`--max-body-bytes / BATCHSHIP_MAX_BODY_BYTES (${config.maxBodyBytes}) is more than --body-budget-bytes / BATCHSHIP_BODY_BUDGET_BYTES admits for one body (${largest}, three quarters of it)`);
  }
  const pipelines = kindOf(config.pipelinesDir);
  if (pipelines !== "directory") {
    problems.push(`--pipelines / BATCHSHIP_PIPELINES (${config.pipelinesDir}) ${pipelines === "missing" ? "does not exist" : "is not a folder"}`);
  }
  if (kindOf(config.dataDir) === "other") problems.push(`--data-dir / BATCHSHIP_DATA_DIR (${config.dataDir}) is not a folder`);
  return problems;
}

function kindOf(path: string): "directory" | "missing" | "other" {
  try {
    return statSync(path).isDirectory() ? "directory" : "other";
  } catch {
    return "missing";
  }
}

/** `--config-repository` → `configRepository`, the key commander uses. */
function flagKey(flag: string): string {
  return flag.replace(/^--/, "").replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** Every secret in the configuration, for the logger's redaction. */
export function secretsOf(config: ServiceConfig): string[] {
  return [...config.webhookSecrets, config.githubToken, config.apiToken, config.readToken, config.gitToken].filter((s): s is string => s !== undefined);
}
