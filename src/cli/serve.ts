import { Command } from "commander";
import { describeError } from "../errors.js";
import { limitHeapGrowth } from "../server/heap-growth.js";
import { createLogger } from "../server/logger.js";
import { readServiceConfig, secretsOf, type ServeFlags } from "../service/config.js";
import { startService } from "../service/start-service.js";
import type { CliIo } from "./io.js";

/**
 * `batchship serve`: the webhook service. Flags and environment are read once here into one
 * typed config; the process's signals are wired here and nowhere else. Logs are JSON lines on
 * stdout; the command resolves when the service has stopped.
 */
export function addServeCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command("serve")
    .description("receive GitHub push webhooks and drive each matching pipeline's release (see docs/service.md)")
    .option("--pipelines <dir>", "folder of pipeline files in a checkout of the config repository [BATCHSHIP_PIPELINES]")
    .option("--config-repository <owner/name>", "a push to it reloads the pipelines [BATCHSHIP_CONFIG_REPOSITORY]")
    .option("--data-dir <dir>", "store and git mirrors (default ./batchship-data) [BATCHSHIP_DATA_DIR]")
    .option("--store-sync <mode>", "full: fsync each commit (default); normal: survive process crashes only [BATCHSHIP_STORE_SYNC]")
    .option("--host <host>", "listen address (default 0.0.0.0) [BATCHSHIP_HOST]")
    .option("--port <port>", "listen port, 0 for any (default 8080) [BATCHSHIP_PORT]")
    .option("--public-url <url>", "base URL of the links in commit statuses [BATCHSHIP_PUBLIC_URL]")
    .option("--github-api-url <url>", "GitHub API (default https://api.github.com) [BATCHSHIP_GITHUB_API_URL]")
    .option("--github-url <url>", "GitHub web URL for clone URLs (default https://github.com) [BATCHSHIP_GITHUB_URL]")
    .option("--poll-interval <seconds>", "seconds between build and canary polls, 1–3600 (default 15) [BATCHSHIP_POLL_INTERVAL]")
    .option("--events-queue-url <urls>", "SQS queues (comma-separated) of Batch and CodeBuild state change events: ends are learnt of within seconds [BATCHSHIP_EVENTS_QUEUE_URL]")
    .option("--events-safety-net <seconds>", "with an events queue, seconds between polls when no event comes, 1–3600 (default 300) [BATCHSHIP_EVENTS_SAFETY_NET]")
    .option("--concurrency <n>", "releases at once, across pipelines (default 8) [BATCHSHIP_CONCURRENCY]")
    .option("--max-body-bytes <n>", "largest webhook body accepted (default 25 MiB) [BATCHSHIP_MAX_BODY_BYTES]")
    .option("--body-budget-bytes <n>", "request body bytes held at once across connections (default 64 MiB) [BATCHSHIP_BODY_BUDGET_BYTES]")
    .option("--max-connections <n>", "open connections at once (default 512) [BATCHSHIP_MAX_CONNECTIONS]")
    .option("--retention-days <n>", "days of deliveries, stage events and sent statuses kept, 7–3650 (default 30) [BATCHSHIP_RETENTION_DAYS]")
    .option("--report-retry <seconds>", "first pause before re-sending a failed commit status, 1–3600 seconds (default 5) [BATCHSHIP_REPORT_RETRY]")
    .option("--shutdown-grace <seconds>", "longest wait for releases in flight on SIGTERM, 1–3600 seconds (default 60) [BATCHSHIP_SHUTDOWN_GRACE]")
    .option("--catch-up-interval <seconds>", "seconds between comparisons of branch heads with what was queued, 60–3600 (default 300) [BATCHSHIP_CATCH_UP_INTERVAL]")
    .option("--log-level <level>", "debug, info, warn or error (default info) [BATCHSHIP_LOG_LEVEL]")
    .action(async (flags: ServeFlags) => setExit(await serve(flags, io)));
}

async function serve(flags: ServeFlags, io: CliIo): Promise<number> {
  let config;
  try {
    config = readServiceConfig(flags, process.env);
  } catch (error) {
    io.stderr(`error: ${describeError(error)}`);
    return 2;
  }
  const logger = createLogger({ write: (line) => process.stdout.write(`${line}\n`), level: config.logLevel, secrets: secretsOf(config) });
  // Until the service is up a SIGHUP has nothing to reload; without a handler it would end the
  // process (Node's default), so one is in place from the start.
  let reload = (): void => logger.info("SIGHUP before the service was up; pipelines are being loaded anyway");
  const onHup = (): void => reload();
  process.on("SIGHUP", onHup);
  // Likewise SIGTERM and SIGINT: one that arrives while the service starts stops it cleanly
  // (exit 0, releases left to resume) as soon as it is up, instead of killing it midway.
  let stopWith: string | undefined;
  let stop = (signal: string): void => {
    stopWith ??= signal;
    logger.info("signal received while starting; stopping once started", { signal });
  };
  const onTerm = (): void => stop("SIGTERM");
  const onInt = (): void => stop("SIGINT");
  process.once("SIGTERM", onTerm);
  process.once("SIGINT", onInt);
  // Logged once the handlers above are in place: a supervisor or test that signals the service
  // as soon as it says anything finds it ready to stop cleanly.
  const heapGrowth = limitHeapGrowth();
  logger.info("V8 heap growth set", { heapGrowingPercent: heapGrowth.percent, setBy: heapGrowth.setBy });
  // The service stops itself on what it cannot recover from (its store's writer died): exit 3,
  // so a supervisor starts it again.
  let fatal: Error | undefined;
  let stopForFatal = (): void => undefined;
  let service;
  try {
    service = await startService(config, {
      logger,
      onFatal: (error) => {
        fatal ??= error;
        stopForFatal();
      },
    });
  } catch (error) {
    for (const [signal, handler] of [["SIGHUP", onHup], ["SIGTERM", onTerm], ["SIGINT", onInt]] as const) process.off(signal, handler);
    logger.error("service failed to start", { error: describeError(error) });
    io.stderr(`error: ${describeError(error)}`);
    return 3;
  }
  const running = service;
  reload = () => running.reload();
  await new Promise<void>((resolve) => {
    const shutdown = (): void => {
      running.shutdown().then(resolve, (error: unknown) => {
        logger.error("shutdown failed", { error: describeError(error) });
        resolve();
      });
    };
    stop = (signal: string): void => {
      logger.info("signal received", { signal });
      shutdown();
    };
    stopForFatal = shutdown;
    if (stopWith !== undefined) stop(stopWith);
    else if (fatal !== undefined) shutdown();
  });
  if (fatal !== undefined) {
    io.stderr(`error: ${describeError(fatal)}`);
    return 3;
  }
  return 0;
}
