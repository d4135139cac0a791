import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createAwsBackend } from "../../src/aws/index.js";
import { checkAwsEnvironment } from "../../src/aws/doctor.js";
import { HINTS } from "../../src/aws/errors.js";
import { emulatorEnv } from "../emulator/index.js";
import { closedPort } from "./closed-port.js";
import { FALLBACK_QUEUE, PROJECT, QUEUE, startAwsTestEnv, type AwsTestEnv } from "./aws-test-env.js";
import { testSpec } from "./spec-fixture.js";

let env: AwsTestEnv;
beforeAll(async () => {
  env = await startAwsTestEnv();
});
afterAll(async () => {
  await env?.close();
});
afterEach(() => vi.unstubAllEnvs());

describe("checkAwsEnvironment", () => {
  it("passes the fixtures, warning that the repository will be created", async () => {
    const spec = testSpec({ canary: { jobQueue: QUEUE, fallbackJobQueue: FALLBACK_QUEUE, arraySize: 3 } });
    const checks = await checkAwsEnvironment(env.backend.clients, spec);
    expect(checks.filter((c) => c.level === "fail")).toEqual([]);
    expect(checks).toContainEqual(expect.objectContaining({ level: "ok", subject: `codebuild project ${PROJECT}` }));
    expect(checks).toContainEqual(expect.objectContaining({ level: "ok", subject: `job queue ${QUEUE}`, message: "ENABLED and VALID" }));
    expect(checks).toContainEqual(expect.objectContaining({ level: "ok", subject: `job queue ${FALLBACK_QUEUE}` }));
    expect(checks).toContainEqual(expect.objectContaining({ level: "warn", subject: "ecr repository etl" }));
    // The fixtures' compute environment is UNMANAGED: no maxvCpus to compare with.
    expect(checks).toContainEqual(expect.objectContaining({ subject: `job queue ${QUEUE}`, message: expect.stringContaining("UNMANAGED") }));
  });

  it("reports the repository as present once it exists, through the backend's doctor", async () => {
    await env.backend.registry.ensureRepository("doctor-repo");
    const checks = await env.backend.doctor?.(testSpec({ image: { repository: "doctor-repo" } }));
    expect(checks).toContainEqual({ level: "ok", subject: "ecr repository doctor-repo", message: "exists, tags IMMUTABLE" });
  });

  it("fails a missing project, queue and a non-ECR repository, all in one run", async () => {
    const spec = testSpec({
      build: { project: "missing-project" },
      image: { repository: "ghcr.io/acme/etl" },
      canary: { jobQueue: "missing-queue" },
    });
    const checks = await checkAwsEnvironment(env.backend.clients, spec);
    expect(checks).toContainEqual(
      expect.objectContaining({ level: "fail", subject: "codebuild project missing-project", hint: HINTS.codebuildProject }),
    );
    expect(checks).toContainEqual(expect.objectContaining({ level: "fail", subject: "job queue missing-queue", hint: HINTS.jobQueue }));
    expect(checks).toContainEqual(
      expect.objectContaining({ level: "fail", subject: "ecr repository ghcr.io/acme/etl", message: expect.stringContaining("not an ECR repository") }),
    );
  });

  it("fails when AWS cannot be reached, with the hint", async () => {
    const backend = createAwsBackend({
      region: "us-east-1",
      endpoint: `http://127.0.0.1:${await closedPort()}`,
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
      maxAttempts: 1,
    });
    const checks = await checkAwsEnvironment(backend.clients, testSpec());
    expect(checks.filter((c) => c.level === "fail").length).toBeGreaterThanOrEqual(3);
    expect(checks.every((c) => c.level !== "fail" || c.hint === HINTS.unreachable)).toBe(true);
  });
});

describe("createAwsBackend without options", () => {
  it("takes region, endpoint and credentials from the SDK's standard environment", async () => {
    for (const [name, value] of Object.entries(emulatorEnv(env.emu))) vi.stubEnv(name, value);
    const backend = createAwsBackend();
    await expect(backend.clients.region()).resolves.toBe(env.emu.region);
    const checks = await checkAwsEnvironment(backend.clients, testSpec());
    expect(checks.filter((c) => c.level === "fail")).toEqual([]);
  });

  it("honours a service-specific endpoint variable", async () => {
    for (const [name, value] of Object.entries(emulatorEnv(env.emu))) vi.stubEnv(name, value);
    vi.stubEnv("AWS_ENDPOINT_URL", `http://127.0.0.1:${await closedPort()}`);
    vi.stubEnv("AWS_ENDPOINT_URL_BATCH", env.emu.endpoint);
    vi.stubEnv("AWS_MAX_ATTEMPTS", "1");
    const backend = createAwsBackend();
    expect(await backend.platform.describeJob("00000000-0000-0000-0000-000000000000")).toBeUndefined();
    await expect(backend.registry.ensureRepository("etl")).rejects.toMatchObject({ hint: HINTS.unreachable });
  });
});
