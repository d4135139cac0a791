import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readServiceConfig } from "../../src/service/config.js";

const BIN = fileURLToPath(new URL("../../bin/batchship.js", import.meta.url));

let dir: string;
let pipelines: string;
let dataDir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "batchship-serve-settings-"));
  pipelines = join(dir, "pipelines");
  dataDir = join(dir, "data");
  await mkdir(pipelines);
  await writeFile(join(dir, "a-file"), "not a folder\n");
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A valid configuration but for the one setting under test. */
const goodEnv = () => ({ BATCHSHIP_WEBHOOK_SECRET: "a-webhook-secret", BATCHSHIP_PIPELINES: pipelines, BATCHSHIP_DATA_DIR: dataDir, BATCHSHIP_PORT: "0" });

// One bad value per setting, as a user could give it (flag or variable), and the name it must be refused under.
const BAD: Array<[string, Record<string, string>, string]> = [
  ["host", { BATCHSHIP_HOST: "not a host!" }, "--host / BATCHSHIP_HOST"],
  ["port", { BATCHSHIP_PORT: "65536" }, "--port / BATCHSHIP_PORT"],
  ["pipelines (empty)", { BATCHSHIP_PIPELINES: " " }, "--pipelines / BATCHSHIP_PIPELINES"],
  ["config repository", { BATCHSHIP_CONFIG_REPOSITORY: "no-slash" }, "--config-repository / BATCHSHIP_CONFIG_REPOSITORY"],
  ["store sync", { BATCHSHIP_STORE_SYNC: "sometimes" }, "--store-sync / BATCHSHIP_STORE_SYNC"],
  ["webhook secret", { BATCHSHIP_WEBHOOK_SECRET: " , " }, "BATCHSHIP_WEBHOOK_SECRET"],
  ["API token", { BATCHSHIP_API_TOKEN: "short" }, "BATCHSHIP_API_TOKEN"],
  ["read token", { BATCHSHIP_READ_TOKEN: "short" }, "BATCHSHIP_READ_TOKEN"],
  ["GitHub API URL", { BATCHSHIP_GITHUB_API_URL: "ftp://api.example" }, "--github-api-url / BATCHSHIP_GITHUB_API_URL"],
  ["GitHub URL", { BATCHSHIP_GITHUB_URL: "github.com" }, "--github-url / BATCHSHIP_GITHUB_URL"],
  ["public URL", { BATCHSHIP_PUBLIC_URL: "batchship.example" }, "--public-url / BATCHSHIP_PUBLIC_URL"],
  ["poll interval", { BATCHSHIP_POLL_INTERVAL: "0" }, "--poll-interval / BATCHSHIP_POLL_INTERVAL"],
  ["concurrency", { BATCHSHIP_CONCURRENCY: "0" }, "--concurrency / BATCHSHIP_CONCURRENCY"],
  ["max body bytes", { BATCHSHIP_MAX_BODY_BYTES: "12" }, "--max-body-bytes / BATCHSHIP_MAX_BODY_BYTES"],
  ["body budget", { BATCHSHIP_BODY_BUDGET_BYTES: "1.5" }, "--body-budget-bytes / BATCHSHIP_BODY_BUDGET_BYTES"],
  ["max connections", { BATCHSHIP_MAX_CONNECTIONS: "2" }, "--max-connections / BATCHSHIP_MAX_CONNECTIONS"],
  ["retention days", { BATCHSHIP_RETENTION_DAYS: "3" }, "--retention-days / BATCHSHIP_RETENTION_DAYS"],
  ["report retry", { BATCHSHIP_REPORT_RETRY: "-1" }, "--report-retry / BATCHSHIP_REPORT_RETRY"],
  ["shutdown grace", { BATCHSHIP_SHUTDOWN_GRACE: "0.5" }, "--shutdown-grace / BATCHSHIP_SHUTDOWN_GRACE"],
  ["catch-up interval", { BATCHSHIP_CATCH_UP_INTERVAL: "30" }, "--catch-up-interval / BATCHSHIP_CATCH_UP_INTERVAL"],
  ["log level", { BATCHSHIP_LOG_LEVEL: "loud" }, "--log-level / BATCHSHIP_LOG_LEVEL"],
  ["file sources", { BATCHSHIP_ALLOW_FILE_SOURCES: "yes" }, "BATCHSHIP_ALLOW_FILE_SOURCES"],
];

function serve(env: Record<string, string>, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, "serve", ...args], { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error && typeof error.code === "number" ? error.code : error ? 1 : 0, stdout, stderr });
    });
  });
}

describe("batchship serve refuses every bad setting before it creates anything", () => {
  it.each(BAD)("%s", (_, bad, name) => {
    let message = "";
    try {
      readServiceConfig({}, { ...goodEnv(), ...bad });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(name);
    expect(message).toMatch(/^Could not start the service: /);
  });

  it("through the built CLI: every bad setting at once, named, exit 2, and no data dir", async () => {
    const run = await serve(Object.assign(goodEnv(), ...BAD.map(([, bad]) => bad)));
    expect(run.code, run.stderr).toBe(2);
    for (const [, , name] of BAD) expect(run.stderr).toContain(name);
    expect(run.stdout).toBe("");
    expect(existsSync(dataDir)).toBe(false);
  });

  it("through the built CLI: a pipelines folder that does not exist, or a data dir that is a file, exit 2 and nothing made", async () => {
    const missing = join(dir, "no-such-folder");
    const run = await serve({ ...goodEnv(), BATCHSHIP_DATA_DIR: join(dir, "a-file") }, ["--pipelines", missing]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(`--pipelines / BATCHSHIP_PIPELINES (${missing}) does not exist`);
    expect(run.stderr).toContain("--data-dir / BATCHSHIP_DATA_DIR");
    expect(run.stderr).toContain("is not a folder");
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
  });
});
