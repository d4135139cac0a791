import { CodeBuildClient, ListBuildsForProjectCommand } from "@aws-sdk/client-codebuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuildRequest } from "../../src/release/ports.js";
import { testClientConfig } from "../emulator/index.js";
import { motoJsonCall } from "../emulator/moto-client.js";
import { PROJECT, startAwsTestEnv, type AwsTestEnv } from "./aws-test-env.js";

let env: AwsTestEnv;
let codebuild: CodeBuildClient;
let repositoryUri: string;
beforeAll(async () => {
  env = await startAwsTestEnv();
  codebuild = new CodeBuildClient(testClientConfig(env.emu));
  repositoryUri = (await env.backend.registry.ensureRepository("lookup")).uri;
});
afterAll(async () => {
  codebuild?.destroy();
  await env?.close();
});

function request(n: number): BuildRequest {
  const commit = String(n).padStart(7, "0").padEnd(40, "d");
  return {
    releaseId: `lookup-${n}`,
    commit,
    project: PROJECT,
    imageRepositoryUri: repositoryUri,
    imageTags: [commit],
    dockerfile: "Dockerfile",
    context: ".",
    buildArgs: {},
    timeoutMinutes: 30,
  };
}

/** Builds other releases started since: straight to moto, so only the project's history grows. */
async function otherBuilds(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const answer = await motoJsonCall(env.emu.motoEndpoint, "codebuild", "StartBuild", { projectName: PROJECT });
    expect(answer.status).toBe(200);
  }
}

describe("finding a release's build", () => {
  it("finds it beyond the project's 100 newest builds, listing without a sort order", async () => {
    const req = request(1);
    const started = await env.backend.builder.startBuild(req);
    await otherBuilds(150);
    const before = env.emu.calls.length;

    const found = await env.backend.builder.findBuild(req);

    expect(found?.id).toBe(started.id);
    const listings = env.emu.calls.slice(before).filter((c) => c.operation === "ListBuildsForProject");
    expect(listings).toHaveLength(2);
    expect(listings.every((c) => c.input.sortOrder === undefined)).toBe(true);
    expect(listings[1]?.input.nextToken).toEqual(expect.any(String));
  });

  it("stops listing at the page that holds a reusable build", async () => {
    const req = request(2);
    const started = await env.backend.builder.startBuild(req);
    const before = env.emu.calls.length;

    expect((await env.backend.builder.findBuild(req))?.id).toBe(started.id);
    expect(env.emu.calls.slice(before).filter((c) => c.operation === "ListBuildsForProject")).toHaveLength(1);
  });

  it("finds nothing for a release that never built, after reading every page", async () => {
    const before = env.emu.calls.length;
    expect(await env.backend.builder.findBuild(request(3))).toBeUndefined();
    expect(env.emu.calls.slice(before).filter((c) => c.operation === "ListBuildsForProject").length).toBeGreaterThanOrEqual(2);
  });
});

// After the tests above, the project has more than 100 builds.
describe("the test layer's ListBuildsForProject", () => {
  it("refuses a sort order once the project has more than 100 builds, as CodeBuild does", async () => {
    await expect(codebuild.send(new ListBuildsForProjectCommand({ projectName: PROJECT, sortOrder: "DESCENDING" }))).rejects.toMatchObject({
      name: "InvalidInputException",
    });
  });

  it("pages 100 ids at a time, newest first", async () => {
    const latest = await motoJsonCall(env.emu.motoEndpoint, "codebuild", "StartBuild", { projectName: PROJECT });
    const first = await codebuild.send(new ListBuildsForProjectCommand({ projectName: PROJECT }));
    expect(first.ids).toHaveLength(100);
    expect(first.ids?.[0]).toBe(latest.json.build.id);
    const second = await codebuild.send(new ListBuildsForProjectCommand({ projectName: PROJECT, nextToken: first.nextToken }));
    expect(second.ids?.length).toBeGreaterThan(0);
    expect(new Set([...(first.ids ?? []), ...(second.ids ?? [])]).size).toBe((first.ids?.length ?? 0) + (second.ids?.length ?? 0));
  });
});
