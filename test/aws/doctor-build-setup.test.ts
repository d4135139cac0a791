import { CodeBuildClient, CreateProjectCommand, type EnvironmentType, type SourceType } from "@aws-sdk/client-codebuild";
import { CreateRepositoryCommand, ECRClient, type ImageTagMutability } from "@aws-sdk/client-ecr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SUPPORTED_BUILD_IMAGES } from "../../src/aws/build-images.js";
import { checkAwsEnvironment } from "../../src/aws/doctor.js";
import { FIXTURE_ROLE } from "../emulator/fixtures.js";
import { testClientConfig } from "../emulator/index.js";
import { PROJECT, startAwsTestEnv, type AwsTestEnv } from "./aws-test-env.js";
import { testSpec } from "./spec-fixture.js";

let env: AwsTestEnv;
let codebuild: CodeBuildClient;
let ecr: ECRClient;
beforeAll(async () => {
  env = await startAwsTestEnv();
  codebuild = new CodeBuildClient(testClientConfig(env.emu));
  ecr = new ECRClient(testClientConfig(env.emu));
});
afterAll(async () => {
  codebuild?.destroy();
  ecr?.destroy();
  await env?.close();
});

async function project(name: string, options: { image?: string; source?: SourceType; type?: EnvironmentType } = {}): Promise<string> {
  const source = options.source ?? "GITHUB";
  await codebuild.send(
    new CreateProjectCommand({
      name,
      source: source === "S3" ? { type: source, location: "bucket/app.zip" } : { type: source, location: "https://github.com/acme/etl.git" },
      artifacts: { type: "NO_ARTIFACTS" },
      environment: { type: options.type ?? "LINUX_CONTAINER", image: options.image ?? SUPPORTED_BUILD_IMAGES[0], computeType: "BUILD_GENERAL1_SMALL" },
      serviceRole: `arn:aws:iam::${env.emu.accountId}:role/${FIXTURE_ROLE}`,
    }),
  );
  return name;
}

async function repository(name: string, mutability: ImageTagMutability, exclusions: string[] = []): Promise<string> {
  await ecr.send(
    new CreateRepositoryCommand({
      repositoryName: name,
      imageTagMutability: mutability,
      ...(exclusions.length > 0 ? { imageTagMutabilityExclusionFilters: exclusions.map((filter) => ({ filterType: "WILDCARD", filter })) } : {}),
    }),
  );
  return name;
}

const checksFor = (spec: Parameters<typeof testSpec>[0]) => checkAwsEnvironment(env.backend.clients, testSpec(spec));

describe("doctor: the CodeBuild project", () => {
  it("accepts a project made the ordinary way: privileged mode off, a GitHub source, a supported image", async () => {
    const checks = await checksFor({ build: { project: PROJECT } });
    const subject = `codebuild project ${PROJECT}`;
    expect(checks.filter((c) => c.subject === subject && c.level !== "ok")).toEqual([]);
    expect(checks).toContainEqual(expect.objectContaining({ subject, message: expect.stringContaining("privileged mode off: batchship turns it on") }));
  });

  it("fails an image without docker buildx, naming the images that work", async () => {
    const name = await project("old-image", { image: "aws/codebuild/amazonlinux2-x86_64-standard:4.0" });
    const checks = await checksFor({ build: { project: name } });
    expect(checks).toContainEqual(
      expect.objectContaining({ level: "fail", subject: "codebuild project old-image", message: expect.stringContaining("docker buildx"), hint: expect.stringContaining(SUPPORTED_BUILD_IMAGES[0]) }),
    );
  });

  it("warns about a custom image, whose requirements the build checks itself", async () => {
    const name = await project("custom-image", { image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/builder:1" });
    const checks = await checksFor({ build: { project: name } });
    expect(checks).toContainEqual(expect.objectContaining({ level: "warn", subject: "codebuild project custom-image", message: expect.stringContaining("docker buildx") }));
  });

  it("fails a source that cannot build a commit sha", async () => {
    const name = await project("s3-source", { source: "S3" });
    const checks = await checksFor({ build: { project: name } });
    expect(checks).toContainEqual(expect.objectContaining({ level: "fail", subject: "codebuild project s3-source", message: expect.stringContaining("source type S3") }));
  });

  it("fails an environment type without Linux Docker", async () => {
    const name = await project("windows-compute", { type: "WINDOWS_CONTAINER", image: "aws/codebuild/windows-base:2019-3.0" });
    const checks = await checksFor({ build: { project: name } });
    expect(checks).toContainEqual(
      expect.objectContaining({ level: "fail", subject: "codebuild project windows-compute", message: expect.stringContaining("WINDOWS_CONTAINER") }),
    );
  });
});

describe("doctor: the ECR repository", () => {
  it("fails MUTABLE tags, with the command that fixes them", async () => {
    const name = await repository("mutable", "MUTABLE");
    const checks = await checksFor({ image: { repository: name } });
    expect(checks).toContainEqual({
      level: "fail",
      subject: "ecr repository mutable",
      message: "tags are MUTABLE: a pushed tag could later name another image",
      hint: "aws ecr put-image-tag-mutability --repository-name mutable --image-tag-mutability IMMUTABLE",
    });
  });

  it("fails an exclusion that lets this pipeline's tags move, and accepts one that does not", async () => {
    const moving = await repository("excludes-branch-tags", "IMMUTABLE_WITH_EXCLUSION", ["main-*"]);
    const tags = ["{sha}", "{branch}-{shortSha}"];
    const checks = await checksFor({ image: { repository: moving, tags }, source: { repository: "acme/etl", branches: ["main"] } });
    expect(checks).toContainEqual(
      expect.objectContaining({ level: "fail", subject: "ecr repository excludes-branch-tags", message: expect.stringContaining("main-0123456") }),
    );

    const harmless = await repository("excludes-latest", "IMMUTABLE_WITH_EXCLUSION", ["latest"]);
    const fine = await checksFor({ image: { repository: harmless, tags }, source: { repository: "acme/etl", branches: ["main"] } });
    expect(fine).toContainEqual(expect.objectContaining({ level: "ok", subject: "ecr repository excludes-latest" }));
  });

  it("says who must create a missing repository in another account", async () => {
    const uri = `210987654321.dkr.ecr.${env.emu.region}.amazonaws.com/theirs`;
    const checks = await checksFor({ image: { repository: uri } });
    expect(checks).toContainEqual(
      expect.objectContaining({ level: "fail", subject: `ecr repository ${uri}`, hint: expect.stringContaining("account 210987654321 must create it") }),
    );
  });
});
