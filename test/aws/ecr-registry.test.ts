import { createHash } from "node:crypto";
import { DescribeRepositoriesCommand, PutImageCommand } from "@aws-sdk/client-ecr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEcrRepository } from "../../src/aws/ecr-registry.js";
import { HINTS } from "../../src/aws/errors.js";
import { startAwsTestEnv, type AwsTestEnv } from "./aws-test-env.js";

let env: AwsTestEnv;
beforeAll(async () => {
  env = await startAwsTestEnv();
});
afterAll(async () => {
  await env?.close();
});

/** moto derives the digest from the layers: a distinct layer per image keeps digests apart. */
function manifest(seed: string): string {
  const sha = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.docker.distribution.manifest.v2+json",
    config: { mediaType: "application/vnd.docker.container.image.v1+json", size: 10, digest: sha(`config ${seed}`) },
    layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 20, digest: sha(`layer ${seed}`) }],
  });
}

describe("parseEcrRepository", () => {
  it("accepts names and ECR URIs", () => {
    expect(parseEcrRepository("etl")).toEqual({ name: "etl" });
    expect(parseEcrRepository("team/etl")).toEqual({ name: "team/etl" });
    expect(parseEcrRepository("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/etl")).toEqual({
      name: "team/etl",
      registryId: "123456789012",
      region: "eu-west-1",
    });
  });

  it("rejects other registries", () => {
    expect(() => parseEcrRepository("ghcr.io/acme/etl")).toThrow(/is not an ECR repository; the codebuild backend pushes to ECR/);
    expect(() => parseEcrRepository("localhost:5000/etl")).toThrow(expect.objectContaining({ code: "ENVIRONMENT" }));
  });
});

describe("ensureRepository", () => {
  it("creates a missing repository with immutable release tags, once", async () => {
    const { backend, emu } = env;
    const created = await backend.registry.ensureRepository("created");
    expect(created).toEqual({ name: "created", uri: `${emu.accountId}.dkr.ecr.${emu.region}.amazonaws.com/created` });
    const again = await backend.registry.ensureRepository("created");
    expect(again).toEqual(created);
    expect(emu.count("CreateRepository")).toBe(1);

    const described = await backend.clients.ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ["created"] }));
    // No tag can ever be overwritten: the buildspec's layer cache needs no tag of its own.
    expect(described.repositories?.[0]?.imageTagMutability).toBe("IMMUTABLE");
    expect(described.repositories?.[0]?.imageTagMutabilityExclusionFilters ?? []).toEqual([]);
  });

  it("accepts the full URI of an existing repository", async () => {
    const { backend } = env;
    const { uri } = await backend.registry.ensureRepository("by-uri");
    expect(await backend.registry.ensureRepository(uri)).toEqual({ name: "by-uri", uri });
  });

  it("never creates a repository named by a URI in another account, and says who must", async () => {
    const uri = `210987654321.dkr.ecr.${env.emu.region}.amazonaws.com/elsewhere`;
    const creates = env.emu.count("CreateRepository");
    await expect(env.backend.registry.ensureRepository(uri)).rejects.toMatchObject({
      code: "ENVIRONMENT",
      message: expect.stringContaining("does not create repositories in another account (210987654321)"),
      hint: expect.stringContaining("account 210987654321 must create it"),
    });
    expect(env.emu.count("CreateRepository")).toBe(creates);
  });

  it("creates a repository named by a URI in its own account", async () => {
    const uri = `${env.emu.accountId}.dkr.ecr.${env.emu.region}.amazonaws.com/own-by-uri`;
    expect(await env.backend.registry.ensureRepository(uri)).toEqual({ name: "own-by-uri", uri });
  });

  it("refuses a repository in another region", async () => {
    await expect(env.backend.registry.ensureRepository("123456789012.dkr.ecr.eu-north-1.amazonaws.com/etl")).rejects.toMatchObject({
      code: "ENVIRONMENT",
      message: expect.stringContaining("eu-north-1"),
    });
  });
});

describe("findDigest", () => {
  it("returns the digest a tag points at, or undefined", async () => {
    const { backend } = env;
    const repository = await backend.registry.ensureRepository("digests");
    const put = await backend.clients.ecr.send(
      new PutImageCommand({ repositoryName: "digests", imageTag: "abc123", imageManifest: manifest("abc123") }),
    );
    const digest = put.image?.imageId?.imageDigest;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await backend.registry.findDigest(repository, "abc123")).toBe(digest);
    expect(await backend.registry.findDigest(repository, "no-such-tag")).toBeUndefined();
  });

  it("reports a missing repository with a hint", async () => {
    const missing = { name: "never-created", uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/never-created" };
    await expect(env.backend.registry.findDigest(missing, "x")).rejects.toMatchObject({
      code: "ENVIRONMENT",
      awsErrorName: "RepositoryNotFoundException",
      hint: HINTS.repository,
    });
  });
});
