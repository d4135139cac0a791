import { BatchGetProjectsCommand, CodeBuildClient } from "@aws-sdk/client-codebuild";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BUILDSPEC } from "../../src/aws/buildspec.js";
import { HINTS } from "../../src/aws/errors.js";
import { testClientConfig } from "../emulator/index.js";
import type { BuildRequest, BuildState } from "../../src/release/ports.js";
import { eventually, PROJECT, startAwsTestEnv, type AwsTestEnv } from "./aws-test-env.js";

let env: AwsTestEnv;
let repositoryUri: string;
beforeAll(async () => {
  env = await startAwsTestEnv();
  repositoryUri = (await env.backend.registry.ensureRepository("etl")).uri;
});
afterAll(async () => {
  await env?.close();
});
beforeEach(() => env.emu.reset());

let counter = 0;
function request(overrides: Partial<BuildRequest> = {}): BuildRequest {
  counter += 1;
  // Unique in its first 7 characters too: the branch tag uses the short sha, and tags are immutable.
  const commit = String(counter).padStart(7, "0").padEnd(40, "c");
  return {
    releaseId: `rel-${counter}`,
    commit,
    project: PROJECT,
    imageRepositoryUri: repositoryUri,
    imageTags: [commit, `main-${commit.slice(0, 7)}`],
    dockerfile: "Dockerfile",
    context: ".",
    buildArgs: {},
    timeoutMinutes: 30,
    ...overrides,
  };
}

async function ended(buildId: string): Promise<BuildState> {
  return eventually(async () => {
    const build = await env.backend.builder.getBuild(buildId);
    return build.status === "in-progress" ? undefined : build;
  }, `build ${buildId} to end`);
}

describe("startBuild", () => {
  it("starts the project's build with the buildspec contract", async () => {
    const req = request({ buildArgs: { PYTHON: "3.12", MODE: "release" } });
    const started = await env.backend.builder.startBuild(req);
    expect(started.id).toMatch(new RegExp(`^${PROJECT}:`));

    const call = env.emu.calls.find((c) => c.operation === "StartBuild");
    expect(call?.input).toMatchObject({
      projectName: PROJECT,
      sourceVersion: req.commit,
      idempotencyToken: `${req.releaseId}-0`,
      timeoutInMinutesOverride: 30,
      // batchship's build and privileged mode, whatever the project says.
      buildspecOverride: BUILDSPEC,
      privilegedModeOverride: true,
    });
    expect(call?.input.environmentVariablesOverride).toEqual([
      { name: "IMAGE_REPOSITORY_URI", value: repositoryUri, type: "PLAINTEXT" },
      { name: "IMAGE_TAGS", value: req.imageTags.join(" "), type: "PLAINTEXT" },
      { name: "DOCKERFILE", value: "Dockerfile", type: "PLAINTEXT" },
      { name: "BUILD_CONTEXT", value: ".", type: "PLAINTEXT" },
      { name: "BUILD_ARGS", value: "PYTHON=3.12\nMODE=release", type: "PLAINTEXT" },
      { name: "BATCHSHIP_RELEASE_ID", value: req.releaseId, type: "PLAINTEXT" },
    ]);
  });

  it("builds on a project made the ordinary way (privileged mode off, its own buildspec)", async () => {
    const projects = await new CodeBuildClient(testClientConfig(env.emu)).send(new BatchGetProjectsCommand({ names: [PROJECT] }));
    expect(projects.projects?.[0]?.environment?.privilegedMode).toBe(false);
    const req = request();
    expect((await ended((await env.backend.builder.startBuild(req)).id)).status).toBe("succeeded");
  });

  it("builds again and again into an IMMUTABLE repository: the layer cache rewrites no tag", async () => {
    const { uri } = await env.backend.registry.ensureRepository("etl");
    for (let i = 0; i < 3; i++) {
      expect((await ended((await env.backend.builder.startBuild(request({ imageRepositoryUri: uri }))).id)).status).toBe("succeeded");
    }
  });

  it("ends succeeded, and the image's digest can be found by its sha tag", async () => {
    const req = request();
    const build = await ended((await env.backend.builder.startBuild(req)).id);
    expect(build.status).toBe("succeeded");
    expect(build.detail).toBeUndefined();
    expect(build.phases.map((p) => p.name)).toContain("BUILD");
    const repository = { name: "etl", uri: repositoryUri };
    expect(await env.backend.registry.findDigest(repository, req.commit)).toMatch(/^sha256:/);
  });

  it("maps a failed build with its phase contexts", async () => {
    env.emu.builds.failNext({ phase: "BUILD", statusCode: "COMMAND_EXECUTION_ERROR", message: "docker build exited 1" });
    const build = await ended((await env.backend.builder.startBuild(request())).id);
    expect(build.status).toBe("failed");
    expect(build.detail).toBe("FAILED");
    const phase = build.phases.find((p) => p.name === "BUILD");
    expect(phase).toEqual({ name: "BUILD", status: "FAILED", contexts: ["COMMAND_EXECUTION_ERROR: docker build exited 1"] });
  });

  it("reports an in-progress build with its current phase", async () => {
    env.emu.builds.slow(3);
    const started = await env.backend.builder.startBuild(request());
    const build = await env.backend.builder.getBuild(started.id);
    expect(build.status).toBe("in-progress");
    expect(build.currentPhase).toBeDefined();
  });

  it("retries a lost StartBuild response without starting a second build", async () => {
    const req = request();
    env.emu.faults.failAfterForwarding("StartBuild", 1);
    const started = await env.backend.builder.startBuild(req);
    expect(env.emu.calls.filter((c) => c.operation === "StartBuild")).toHaveLength(2);
    expect((await env.backend.builder.findBuild(req))?.id).toBe(started.id);
  });

  it("reports a missing project with a hint", async () => {
    await expect(env.backend.builder.startBuild(request({ project: "no-such-project" }))).rejects.toMatchObject({
      code: "ENVIRONMENT",
      hint: HINTS.codebuildProject,
      message: expect.stringMatching(/^Could not (start|list) CodeBuild builds? (in|of) project no-such-project: /),
    });
  });

  it("reports an unknown build id", async () => {
    await expect(env.backend.builder.getBuild(`${PROJECT}:00000000-0000-0000-0000-000000000000`)).rejects.toMatchObject({
      code: "ENVIRONMENT",
    });
  });
});

describe("findBuild", () => {
  it("finds the build started for the same release and commit", async () => {
    const req = request();
    env.emu.builds.slow(5);
    const started = await env.backend.builder.startBuild(req);
    await env.backend.builder.startBuild(request());
    const found = await env.backend.builder.findBuild(req);
    expect(found?.id).toBe(started.id);
  });

  it("ignores builds of other releases or commits", async () => {
    const req = request();
    await env.backend.builder.startBuild(req);
    expect(await env.backend.builder.findBuild({ ...req, releaseId: "another-release" })).toBeUndefined();
    expect(await env.backend.builder.findBuild({ ...req, commit: "f".repeat(40) })).toBeUndefined();
  });

  it("finds a failed build as failed: it is the release's outcome until a retry", async () => {
    const req = request();
    env.emu.builds.failNext();
    const started = await env.backend.builder.startBuild(req);
    expect((await ended(started.id)).status).toBe("failed");
    expect(await env.backend.builder.findBuild(req)).toMatchObject({ id: started.id, status: "failed" });
  });

  it("stops a running build, which then reads as STOPPED", async () => {
    const req = request();
    env.emu.builds.slow(50);
    const started = await env.backend.builder.startBuild(req);
    env.emu.builds.clear();
    await env.backend.builder.stopBuild?.(started.id);
    expect(await env.backend.builder.getBuild(started.id)).toMatchObject({ status: "failed", detail: "STOPPED" });
  });
});
