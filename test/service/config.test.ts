import { describe, expect, it } from "vitest";
import { readServiceConfig, type ServeFlags } from "../../src/service/config.js";

const ENV = { BATCHSHIP_WEBHOOK_SECRET: "a-webhook-secret", BATCHSHIP_PIPELINES: "pipelines" };
const read = (flags: ServeFlags, env: Record<string, string> = {}) => readServiceConfig(flags, { ...ENV, ...env });
const problem = (flags: ServeFlags, env: Record<string, string> = {}): string => {
  try {
    read(flags, env);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the configuration to be refused");
};

describe("interval settings", () => {
  it("default to 15 s polls, 5 s report retries and a 60 s shutdown grace", () => {
    expect(read({})).toMatchObject({ pollIntervalMs: 15_000, reportRetryMs: 5_000, shutdownGraceMs: 60_000 });
  });

  it("take seconds from flags and the environment", () => {
    expect(read({ pollInterval: "1" }, { BATCHSHIP_REPORT_RETRY: "2.5", BATCHSHIP_SHUTDOWN_GRACE: "3600" })).toMatchObject({
      pollIntervalMs: 1_000,
      reportRetryMs: 2_500,
      shutdownGraceMs: 3_600_000,
    });
  });

  it.each([
    [{ pollInterval: "0.01" }, {}, "--poll-interval / BATCHSHIP_POLL_INTERVAL must be from 1 to 3600 seconds (got 0.01)"],
    [{}, { BATCHSHIP_POLL_INTERVAL: "0" }, "--poll-interval / BATCHSHIP_POLL_INTERVAL must be from 1 to 3600 seconds (got 0)"],
    [{ reportRetry: "0.5" }, {}, "--report-retry / BATCHSHIP_REPORT_RETRY must be from 1 to 3600 seconds (got 0.5)"],
    [{ reportRetry: "1e9" }, {}, "--report-retry / BATCHSHIP_REPORT_RETRY must be from 1 to 3600 seconds (got 1e9)"],
    [{ shutdownGrace: "0.05" }, {}, "--shutdown-grace / BATCHSHIP_SHUTDOWN_GRACE must be from 1 to 3600 seconds (got 0.05)"],
    [{ pollInterval: "soon" }, {}, "--poll-interval / BATCHSHIP_POLL_INTERVAL must be from 1 to 3600 seconds (got soon)"],
  ])("refuse %o %o at startup", (flags, env, message) => {
    expect(problem(flags, env)).toContain(message);
  });

  it("report every bad interval at once", () => {
    const message = problem({ pollInterval: "0.01", reportRetry: "0.01" });
    expect(message).toMatch(/--poll-interval .*; --report-retry /);
  });

  it("go down to 10 ms for polls and report retries only with BATCHSHIP_ALLOW_SHORT_INTERVALS=1 (tests against emulators)", () => {
    expect(read({ pollInterval: "0.05", reportRetry: "0.01" }, { BATCHSHIP_ALLOW_SHORT_INTERVALS: "1" })).toMatchObject({ pollIntervalMs: 50, reportRetryMs: 10 });
    expect(problem({ pollInterval: "0.001" }, { BATCHSHIP_ALLOW_SHORT_INTERVALS: "1" })).toContain("must be from 0.01 to 3600 seconds (got 0.001)");
    expect(problem({ shutdownGrace: "0.05" }, { BATCHSHIP_ALLOW_SHORT_INTERVALS: "1" })).toContain("--shutdown-grace");
  });
});
