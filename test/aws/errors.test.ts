import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClientException } from "@aws-sdk/client-batch";
import { ResourceNotFoundException } from "@aws-sdk/client-codebuild";
import { RepositoryNotFoundException } from "@aws-sdk/client-ecr";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createAwsBackend, MISSING_REGION_MESSAGE } from "../../src/aws/index.js";
import { HINTS, toBatchshipError } from "../../src/aws/errors.js";
import { BatchshipError } from "../../src/errors.js";
import { closedPort } from "./closed-port.js";

const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };

function sdkError(name: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: {}, ...fields });
}

describe("toBatchshipError", () => {
  it("names the operation first and keeps the AWS error name", () => {
    const error = toBatchshipError("register job definition etl-canary", sdkError("ValidationError"));
    expect(error).toBeInstanceOf(BatchshipError);
    expect(error.message).toBe("Could not register job definition etl-canary: ValidationError happened");
    expect(error.code).toBe("AWS");
    expect(error.retryable).toBe(false);
    expect(error.awsErrorName).toBe("ValidationError");
  });

  it.each([
    ["ThrottlingException", {}],
    ["TooManyRequestsException", {}],
    ["SomethingElse", { $retryable: { throttling: true } }],
    ["SomethingElse", { $metadata: { httpStatusCode: 429 } }],
    ["SomethingElse", { $metadata: { httpStatusCode: 503 } }],
    ["TimeoutError", {}],
    ["Error", { code: "ECONNRESET" }],
  ])("marks %s %o retryable", (name, fields) => {
    const error = toBatchshipError("describe job 1", sdkError(name, fields));
    expect(error.retryable).toBe(true);
    expect(error.code).toBe("AWS");
  });

  it("turns access denied into an IAM hint", () => {
    const error = toBatchshipError("submit job x", sdkError("AccessDeniedException", { $metadata: { httpStatusCode: 403 } }));
    expect(error.code).toBe("ENVIRONMENT");
    expect(error.retryable).toBe(false);
    expect(error.hint).toBe(HINTS.accessDenied);
  });

  it("turns missing credentials into a configuration hint", () => {
    const error = toBatchshipError("submit job x", sdkError("CredentialsProviderError"));
    expect(error.code).toBe("ENVIRONMENT");
    expect(error.hint).toBe(HINTS.credentials);
  });

  it("recognises missing Batch queues, CodeBuild projects and ECR repositories", () => {
    const queue = new ClientException({ message: "Job queue nope does not exist", $metadata: {} });
    expect(toBatchshipError("submit job x", queue)).toMatchObject({ code: "ENVIRONMENT", hint: HINTS.jobQueue });
    const definition = new ClientException({ message: "Job definition arn:x does not exist", $metadata: {} });
    expect(toBatchshipError("submit job x", definition)).toMatchObject({ hint: HINTS.jobDefinition });
    const project = new ResourceNotFoundException({ message: "Project cannot be found", $metadata: {} });
    expect(toBatchshipError("start build", project)).toMatchObject({
      code: "ENVIRONMENT",
      hint: HINTS.codebuildProject,
      awsErrorName: "ResourceNotFoundException",
    });
    const repository = new RepositoryNotFoundException({ message: "no repo", $metadata: {} });
    expect(toBatchshipError("describe images", repository)).toMatchObject({ code: "ENVIRONMENT", hint: HINTS.repository });
  });

  it("leaves a BatchshipError as it is", () => {
    const original = new BatchshipError("USAGE", "bad");
    expect(toBatchshipError("anything", original)).toBe(original);
  });
});

describe("the AWS backend's environment errors", () => {
  afterEach(() => vi.unstubAllEnvs());

  it("reports an unreachable endpoint as a configuration error, with a hint", async () => {
    const port = await closedPort();
    const backend = createAwsBackend({ region: "us-east-1", endpoint: `http://127.0.0.1:${port}`, credentials, maxAttempts: 1 });
    const error = await backend.platform.describeJob("job-1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchshipError);
    expect(error).toMatchObject({
      code: "ENVIRONMENT",
      retryable: false,
      hint: HINTS.unreachable,
      awsErrorName: "ECONNREFUSED",
    });
    expect((error as Error).message).toMatch(/^Could not describe job job-1: /);
  });

  it("reports a missing region when first used, not when created", async () => {
    const empty = mkdtempSync(join(tmpdir(), "batchship-aws-"));
    writeFileSync(join(empty, "config"), "");
    vi.stubEnv("AWS_REGION", undefined);
    vi.stubEnv("AWS_DEFAULT_REGION", undefined);
    vi.stubEnv("AWS_PROFILE", undefined);
    vi.stubEnv("AWS_CONFIG_FILE", join(empty, "config"));
    vi.stubEnv("AWS_SHARED_CREDENTIALS_FILE", join(empty, "config"));
    const backend = createAwsBackend({ credentials, maxAttempts: 1 });
    await expect(backend.clients.region()).rejects.toMatchObject({ code: "ENVIRONMENT", message: MISSING_REGION_MESSAGE });
    await expect(backend.platform.describeJob("job-1")).rejects.toMatchObject({
      code: "ENVIRONMENT",
      message: MISSING_REGION_MESSAGE,
    });
  });

  it("takes the region from the environment when given no options", async () => {
    vi.stubEnv("AWS_REGION", "eu-west-3");
    const backend = createAwsBackend();
    await expect(backend.clients.region()).resolves.toBe("eu-west-3");
  });
});
