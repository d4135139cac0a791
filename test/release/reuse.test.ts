import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DescribeImagesCommand, ECRClient } from "@aws-sdk/client-ecr";
import { readBuildSources } from "../../src/git/build-sources.js";
import { KEY_TAG_PREFIX } from "../../src/release/content-key.js";
import type { ReleaseLedger } from "../../src/release/gitops/ledger.js";
import { runRelease } from "../../src/release/run-release.js";
import { TAG } from "../../src/release/tags.js";
import type { PipelineSpec } from "../../src/spec/schema.js";
import { testClientConfig } from "../emulator/index.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { makeSpec } from "../support/spec.js";
import { createBareRemote } from "../gitops/git-remote.js";
import { gitopsEngine } from "../gitops/gitops-harness.js";
import { startEngineHarness, type EngineHarness } from "./harness.js";

const QUEUES = ["docs-only", "context", "args", "dockerfile", "no-reuse", "rebuild", "mono-api", "mono-web", "resume", "equal", "moved"];

let h: EngineHarness;
let repo: TestRepo;
let ecr: ECRClient;
beforeAll(async () => {
  h = await startEngineHarness(QUEUES);
  ecr = new ECRClient(testClientConfig(h.emulator));
});
afterAll(async () => {
  await repo?.remove();
  await h?.close();
});

/** A pipeline whose image is built from `app/` with `app/Dockerfile`, on its own queue and repository. */
function pipeline(
  name: string,
  overrides: { context?: string; dockerfile?: string; buildArgs?: Record<string, string>; reuse?: boolean; gitops?: string } = {},
): PipelineSpec {
  return makeSpec({
    name,
    image: {
      repository: name,
      context: overrides.context ?? "app",
      dockerfile: overrides.dockerfile ?? "app/Dockerfile",
      buildArgs: overrides.buildArgs ?? {},
    },
    build: { backend: "codebuild", project: "etl-image", reuse: overrides.reuse ?? true } as PipelineSpec["build"],
    jobDefinition: { name },
    canary: { jobQueue: name, arraySize: 1 },
    promotion: {
      mode: "auto",
      ...(overrides.gitops === undefined ? {} : { gitops: { repository: overrides.gitops, branch: "batchship/releases", path: "releases/{pipeline}.json" } }),
    },
  });
}

async function newRepo(): Promise<TestRepo> {
  const created = await createTestRepo();
  await created.commit({ "app/Dockerfile": "FROM busybox\nCOPY . /app\n", "app/main.py": "print(1)\n", "README.md": "# app\n" });
  return created;
}

async function release(spec: PipelineSpec, commit: string, options: { rebuild?: boolean; ledger?: ReleaseLedger } = {}) {
  const { ledger, ...request } = options;
  const { ctx, events } = ledger === undefined ? h.engine() : gitopsEngine(h, ledger);
  const sources = await readBuildSources(repo.dir, commit, spec.image);
  const start = h.emulator.calls.length;
  const result = await runRelease(ctx, { spec, commit, branch: "main", sources, ...request });
  // This release's calls only, however many releases run after it.
  const calls = h.emulator.calls.slice(start);
  const count = (operation: string) => calls.filter((c) => c.operation === operation && c.forwarded).length;
  return { result, events, count };
}

async function tagsOf(repositoryName: string, digest: string): Promise<string[]> {
  const output = await ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageDigest: digest }] }));
  return output.imageDetails?.[0]?.imageTags ?? [];
}

describe("build once per content (AWS)", () => {
  beforeAll(async () => {
    repo = await newRepo();
  });

  it("releases a documentation-only commit with no build and the same digest, tagged for the commit", async () => {
    const spec = pipeline("docs-only");
    const first = await release(spec, (await repo.commit({ "README.md": "# app v1\n" })));
    expect(first.result.status).toBe("promoted");
    expect(first.count("StartBuild")).toBe(1);

    const docs = await repo.commit({ "README.md": "# app, documented\n", "docs/usage.md": "use it\n" });
    const second = await release(spec, docs);

    expect(second.result.status).toBe("promoted");
    expect(second.count("StartBuild")).toBe(0);
    expect(second.result.build).toBeNull();
    expect(second.result.image?.digest).toBe(first.result.image?.digest);
    expect(second.result.image?.reusedFrom).toBe(`${KEY_TAG_PREFIX}${first.result.image?.key}`);
    expect(second.result.stages.find((s) => s.stage === "build")?.outcome).toBe("reused");
    expect(second.events).toContainEqual(expect.objectContaining({ type: "image-reused", digest: first.result.image?.digest }));
    // Exactly the commit's tags were added, sha tag included, and nothing was rewritten.
    const tags = await tagsOf("docs-only", second.result.image?.digest ?? "");
    expect(tags).toEqual(expect.arrayContaining([first.result.commit, docs, `main-${docs.slice(0, 7)}`, `${KEY_TAG_PREFIX}${first.result.image?.key}`]));
    // A new release all the same: its own candidate and canary.
    expect(second.count("SubmitJob")).toBe(1);
    expect(second.result.candidate?.arn).not.toBe(first.result.candidate?.arn);
    // Image and job definition equal production's: production still moves forward, to this release.
    expect(second.result.production?.revision).toBe((first.result.production?.revision ?? 0) + 1);
    const [production] = await h.engine().ctx.backend.platform.listJobDefinitionRevisions("docs-only");
    expect(production?.body.containerProperties?.image).toBe(first.result.image?.uri);
  });

  it("GitOps: records a release whose image and job definition equal production's, and says the job is unchanged", async () => {
    const remote = await createBareRemote();
    try {
      const spec = pipeline("equal", { gitops: remote.url });
      const built = await repo.commit({ "README.md": "equal 1\n" });
      const first = await release(spec, built, { ledger: await remote.ledger() });
      expect(first.result.status, JSON.stringify(first.result.error)).toBe("promoted");
      const before = JSON.parse((await remote.show("releases/equal.json")) ?? "{}");

      const docs = await repo.commit({ "README.md": "equal 2\n" });
      const second = await release(spec, docs, { ledger: await remote.ledger() });
      expect(second.result).toMatchObject({ status: "promoted", build: null, image: { digest: first.result.image?.digest } });
      expect(second.count("StartBuild")).toBe(0);

      const log = await remote.log("releases/equal.json");
      expect(log).toHaveLength(2);
      // The record names this release, its own candidate and canary, and production's image and body.
      const record = JSON.parse((await remote.show("releases/equal.json")) ?? "{}");
      expect(record).toMatchObject({
        releaseId: second.result.releaseId,
        commit: docs,
        image: before.image,
        candidate: second.result.candidate,
        canary: { jobId: second.result.canary?.jobId, summary: { SUCCEEDED: 1 } },
        jobDefinition: before.jobDefinition,
      });
      expect(record.candidate.arn).not.toBe(before.candidate.arn);
      expect(log[0]?.message).toContain(`Same image and job definition as ${first.result.releaseId} (commit ${built}): the job runs unchanged`);
      expect(log[1]?.message).not.toContain("Same image");

      // Production moved forward to a revision registered from that record: the same body, this release.
      const [production, previous] = await h.engine().ctx.backend.platform.listJobDefinitionRevisions("equal");
      expect(production?.tags).toMatchObject({ [TAG.release]: second.result.releaseId, [TAG.recordCommit]: log[0]?.sha });
      expect(production?.body).toEqual(previous?.body);
      expect(second.result.production).toEqual({ arn: production?.arn, revision: (first.result.production?.revision ?? 0) + 1 });
    } finally {
      await remote.remove();
    }
  });

  it("builds when a file inside the context changes", async () => {
    const spec = pipeline("context");
    const first = await release(spec, await repo.commit({ "README.md": "context 1\n" }));
    const second = await release(spec, await repo.commit({ "app/main.py": "print(2)\n" }));

    expect(second.count("StartBuild")).toBe(1);
    expect(second.result.image?.reusedFrom).toBeUndefined();
    expect(second.result.image?.digest).not.toBe(first.result.image?.digest);
    expect(second.result.image?.key).not.toBe(first.result.image?.key);
  });

  it("builds when a build argument changes", async () => {
    const commit = await repo.commit({ "README.md": "args\n" });
    const first = await release(pipeline("args", { buildArgs: { VERSION: "1" } }), commit);
    const docs = await repo.commit({ "README.md": "args again\n" });
    const same = await release(pipeline("args", { buildArgs: { VERSION: "1" } }), docs);
    expect(same.count("StartBuild")).toBe(0);
    const changed = await release(pipeline("args", { buildArgs: { VERSION: "2" } }), await repo.commit({ "README.md": "args 3\n" }));
    expect(changed.count("StartBuild")).toBe(1);
    expect(changed.result.image?.digest).not.toBe(first.result.image?.digest);
  });

  it("builds when a Dockerfile outside the context changes", async () => {
    await repo.commit({ "docker/app.Dockerfile": "FROM busybox\n" });
    const spec = pipeline("dockerfile", { dockerfile: "docker/app.Dockerfile" });
    await release(spec, await repo.commit({ "README.md": "dockerfile 1\n" }));
    const changed = await release(spec, await repo.commit({ "docker/app.Dockerfile": "FROM busybox:1.36\n" }));
    expect(changed.count("StartBuild")).toBe(1);
    const ignore = await release(spec, await repo.commit({ "docker/app.Dockerfile.dockerignore": "*.md\n" }));
    expect(ignore.count("StartBuild")).toBe(1);
  });

  it("builds every commit with build.reuse: false", async () => {
    const spec = pipeline("no-reuse", { reuse: false });
    await release(spec, await repo.commit({ "README.md": "no reuse 1\n" }));
    const second = await release(spec, await repo.commit({ "README.md": "no reuse 2\n" }));
    expect(second.count("StartBuild")).toBe(1);
    expect(second.result.image?.reusedFrom).toBeUndefined();
  });

  it("builds with the rebuild flag, and later commits reuse the rebuilt image", async () => {
    const spec = pipeline("rebuild");
    const first = await release(spec, await repo.commit({ "README.md": "rebuild 1\n" }));
    const rebuilt = await release(spec, await repo.commit({ "README.md": "rebuild 2\n" }), { rebuild: true });
    expect(rebuilt.count("StartBuild")).toBe(1);
    expect(rebuilt.result.image?.digest).not.toBe(first.result.image?.digest);
    expect(await tagsOf("rebuild", rebuilt.result.image?.digest ?? "")).toContain(`${KEY_TAG_PREFIX}${first.result.image?.key}-2`);

    const after = await release(spec, await repo.commit({ "README.md": "rebuild 3\n" }));
    expect(after.count("StartBuild")).toBe(0);
    expect(after.result.image?.digest).toBe(rebuilt.result.image?.digest);
  });

  it("rebuilds only the pipeline whose context a commit touches (two pipelines on one repository)", async () => {
    await repo.commit({ "web/Dockerfile": "FROM busybox\n", "web/index.html": "<p>1</p>\n" });
    const api = pipeline("mono-api");
    const web = pipeline("mono-web", { context: "web", dockerfile: "web/Dockerfile" });
    const base = await repo.commit({ "README.md": "mono 1\n" });
    const apiFirst = await release(api, base);
    const webFirst = await release(web, base);

    const touchWeb = await repo.commit({ "web/index.html": "<p>2</p>\n" });
    const apiSecond = await release(api, touchWeb);
    const webSecond = await release(web, touchWeb);

    expect(apiSecond.result.image?.key).toBe(apiFirst.result.image?.key);
    expect(apiSecond.count("StartBuild")).toBe(0);
    expect(apiSecond.result.image?.digest).toBe(apiFirst.result.image?.digest);
    expect(webSecond.count("StartBuild")).toBe(1);
    expect(webSecond.result.image?.digest).not.toBe(webFirst.result.image?.digest);
  });

  it("resumes a reuse that crashed between two tags without a build or a moved tag", async () => {
    const spec = pipeline("resume");
    const first = await release(spec, await repo.commit({ "README.md": "resume 1\n" }));
    const commit = await repo.commit({ "README.md": "resume 2\n" });
    // The first PutImage (the branch tag) lands; the process dies before the sha tag.
    const { ctx } = h.engine();
    const sources = await readBuildSources(repo.dir, commit, spec.image);
    const branchTag = `main-${commit.slice(0, 7)}`;
    await ctx.backend.registry.addTags?.({ name: "resume", uri: first.result.image?.uri.split("@")[0] ?? "" }, first.result.image?.digest ?? "", [branchTag]);

    const calls = h.mark();
    const resumed = await runRelease(ctx, { spec, commit, branch: "main", sources });
    expect(resumed.error).toBeUndefined();
    expect(resumed.status).toBe("promoted");
    expect(calls()("StartBuild")).toBe(0);
    expect(resumed.image?.digest).toBe(first.result.image?.digest);
    expect(await tagsOf("resume", first.result.image?.digest ?? "")).toEqual(expect.arrayContaining([commit, branchTag]));
  });

  it("refuses to move a tag that names another image (ECR's ImageTagAlreadyExistsException)", async () => {
    const spec = pipeline("moved");
    const first = await release(spec, await repo.commit({ "README.md": "moved 1\n" }));
    const other = await release(spec, await repo.commit({ "app/main.py": "print('moved')\n" }));
    const { ctx } = h.engine();
    const repository = { name: "moved", uri: first.result.image?.uri.split("@")[0] ?? "" };
    await expect(ctx.backend.registry.addTags?.(repository, first.result.image?.digest ?? "", [other.result.commit])).rejects.toThrow(
      /names another image/,
    );
    expect(await tagsOf("moved", other.result.image?.digest ?? "")).toContain(other.result.commit);
  });
});
