/**
 * The image stage of a commit whose build context did not change, beside a full build, in one
 * run: AWS calls against the emulator (moto behind the test layer), wall time on the local
 * backend (real buildah, a real registry). Run with `npm run bench:image-reuse`.
 */
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { simpleGit } from "simple-git";
import { createAwsBackend } from "../src/aws/index.js";
import { readBuildSources } from "../src/git/build-sources.js";
import { createEngineContext, type EngineContext } from "../src/release/context.js";
import { buildImage, type BuildInput } from "../src/release/stages/build.js";
import { releaseIdFor } from "../src/release/release-id.js";
import type { PipelineSpec } from "../src/spec/schema.js";
import { renderTags } from "../src/spec/templates.js";
import { createFixtures, startEmulator, testClientConfig } from "../test/emulator/index.js";
import { BUSYBOX, startLocalHarness } from "../test/local/harness.js";
import { createTestRepo, type TestRepo } from "../test/support/git-repo.js";
import { makeSpec } from "../test/support/spec.js";
import { virtualTime } from "../test/support/virtual-time.js";
import { byOperation, formatOperations } from "./batch-calls.js";

const ROUNDS = 3;

async function imageStage(ctx: EngineContext, spec: PipelineSpec, repo: TestRepo, commit: string): Promise<{ built: boolean; ms: number }> {
  const sources = await readBuildSources(repo.dir, commit, spec.image);
  const input: BuildInput = { spec, releaseId: releaseIdFor(spec.name, commit), commit, tags: renderTags(spec.image.tags, { sha: commit, branch: "main" }), sources };
  const started = performance.now();
  const image = await buildImage(ctx, input);
  return { built: image.build !== null, ms: performance.now() - started };
}

async function awsCalls(): Promise<void> {
  const emulator = await startEmulator();
  const repo = await createTestRepo();
  try {
    await createFixtures(emulator, { jobQueues: [], codebuildProject: "bench-image" });
    const time = virtualTime();
    const ctx = createEngineContext(createAwsBackend(testClientConfig(emulator)), { clock: time.clock, sleep: time.sleep });
    const spec = makeSpec({ name: "bench", image: { repository: "bench", context: "app", dockerfile: "app/Dockerfile" }, build: { backend: "codebuild", project: "bench-image" } as PipelineSpec["build"] });
    const measure = async (files: Record<string, string>) => {
      const commit = await repo.commit(files);
      const start = emulator.calls.length;
      const { built } = await imageStage(ctx, spec, repo, commit);
      const calls = emulator.calls.slice(start).filter((c) => c.forwarded);
      return { built, total: calls.length, ops: byOperation(calls) };
    };
    const full = await measure({ "app/Dockerfile": "FROM busybox\n", "app/main.sh": "echo 1\n", "README.md": "1\n" });
    const unchanged = await measure({ "README.md": "2\n" });
    console.log("AWS calls of the image stage (emulator)");
    console.log(`  full build         built=${full.built}  ${full.total} calls: ${formatOperations(full.ops)}`);
    console.log(`  unchanged context  built=${unchanged.built}  ${unchanged.total} calls: ${formatOperations(unchanged.ops)}`);
  } finally {
    await repo.remove();
    await emulator.close();
  }
}

async function localWallTime(): Promise<void> {
  const h = await startLocalHarness();
  try {
    const files = await h.appFiles();
    await mkdir(join(h.repo.dir, "app"), { recursive: true });
    await copyFile(BUSYBOX, join(h.repo.dir, "app", "busybox"));
    await simpleGit(h.repo.dir).add([join("app", "busybox")]);
    const base = h.spec("bench");
    const spec: PipelineSpec = { ...base, image: { ...base.image, context: "app", dockerfile: "app/Dockerfile" } };
    const { ctx } = h.engine();
    console.log("Wall time of the image stage (local backend, buildah + docker-registry)");
    for (let round = 1; round <= ROUNDS; round++) {
      // Each round changes the context once (a full build), then commits outside it.
      const full = await imageStage(ctx, spec, h.repo, await h.repo.commit({ "app/Dockerfile": files["Dockerfile"] ?? "", "app/app.sh": `${files["app.sh"] ?? ""}# round ${round}\n` }));
      const unchanged = await imageStage(ctx, spec, h.repo, await h.repo.commit({ "README.md": `round ${round}\n` }));
      console.log(
        `  round ${round}: full build ${(full.ms / 1000).toFixed(2)} s (built=${full.built})   unchanged context ${(unchanged.ms / 1000).toFixed(2)} s (built=${unchanged.built})`,
      );
    }
  } finally {
    await h.close();
  }
}

await awsCalls();
await localWallTime();
