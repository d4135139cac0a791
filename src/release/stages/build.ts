import { BatchshipError } from "../../errors.js";
import type { PipelineSpec } from "../../spec/schema.js";
import type { EngineContext } from "../context.js";
import { BUILD_STOPPED, type BuildRequest, type BuildState, type ImageRepository } from "../ports.js";

export interface BuiltImage {
  repository: ImageRepository;
  /** `repository@sha256:…` — everything after the build refers to this, never to a tag. */
  uri: string;
  digest: string;
  build: { id: string; logUrl?: string } | null;
}

export interface BuildInput {
  spec: PipelineSpec;
  releaseId: string;
  commit: string;
  tags: readonly string[];
  /** An explicit retry: a failed build of this release is built again instead of reported. */
  retry?: boolean;
}

/**
 * Stages build + image. An image already tagged with the commit (a retry, a resume, or another
 * pipeline on the same repository) is used as it is: the sha tag is immutable, so it is the
 * image of this commit.
 */
export async function buildImage(ctx: EngineContext, input: BuildInput): Promise<BuiltImage> {
  const { registry, builder } = ctx.backend;
  const shaTag = input.tags[0];
  if (shaTag === undefined) throw new BatchshipError("SPEC_INVALID", "image.tags is empty");
  const repository = await registry.ensureRepository(input.spec.image.repository);

  const existing = await registry.findDigest(repository, shaTag);
  if (existing !== undefined) {
    return { repository, digest: existing, uri: `${repository.uri}@${existing}`, build: null };
  }

  const request: BuildRequest = {
    releaseId: input.releaseId,
    commit: input.commit,
    project: input.spec.build.project,
    imageRepositoryUri: repository.uri,
    imageTags: input.tags,
    dockerfile: input.spec.image.dockerfile,
    context: input.spec.image.context,
    buildArgs: input.spec.image.buildArgs,
    timeoutMinutes: input.spec.build.timeoutMinutes,
  };
  const found = await builder.findBuild(request);
  if (found?.status === "failed" && input.retry !== true) throw buildFailure(found, true);
  const reused = found !== undefined && found.status !== "failed";
  const started = reused ? found : await builder.startBuild(request);
  ctx.observe({ type: "build-started", buildId: started.id, reused, ...link(started) });

  const finished = await followBuild(ctx, started, input.spec.build.timeoutMinutes);
  if (finished.status === "failed") throw buildFailure(finished);

  const digest = await registry.findDigest(repository, shaTag);
  if (digest === undefined) {
    throw new BatchshipError(
      "BUILD_FAILED",
      `Build ${finished.id} succeeded but pushed no image tagged ${shaTag} to ${repository.uri}`,
      { hint: "the buildspec must push every tag in IMAGE_TAGS to IMAGE_REPOSITORY_URI (see buildspec.yml)" },
    );
  }
  return { repository, digest, uri: `${repository.uri}@${digest}`, build: { id: finished.id, ...link(finished) } };
}

function link(build: BuildState): { logUrl?: string } {
  return build.logUrl === undefined ? {} : { logUrl: build.logUrl };
}

async function followBuild(ctx: EngineContext, start: BuildState, timeoutMinutes: number): Promise<BuildState> {
  // The provider enforces timeoutMinutes itself; the margin covers queueing and finalising.
  const deadline = ctx.clock.now() + (timeoutMinutes + 15) * 60_000;
  let build = start;
  let phase: string | undefined;
  for (;;) {
    if (build.currentPhase !== undefined && build.currentPhase !== phase) {
      phase = build.currentPhase;
      ctx.observe({ type: "build-phase", buildId: build.id, phase });
    }
    if (build.status !== "in-progress") return build;
    if (ctx.clock.now() >= deadline) {
      throw new BatchshipError("DEADLINE", `Build ${build.id} did not finish within ${timeoutMinutes} minutes`, {
        hint: "raise build.timeoutMinutes or look at the build's log",
      });
    }
    await ctx.sleep(ctx.polling.buildIntervalMs);
    build = await readBuild(ctx, build);
  }
}

/** A poll that fails transiently is a missed poll, not a failed build: keep the last state. */
async function readBuild(ctx: EngineContext, last: BuildState): Promise<BuildState> {
  try {
    return await ctx.backend.builder.getBuild(last.id);
  } catch (error) {
    if (!(error instanceof BatchshipError && error.retryable)) throw error;
    ctx.observe({ type: "warning", message: `reading build ${last.id} failed, will retry: ${error.message}` });
    return last;
  }
}

/** `earlier`: the build ended in an earlier run of the release, which only a retry builds again. */
function buildFailure(build: BuildState, earlier = false): BatchshipError {
  if (build.detail === BUILD_STOPPED) {
    return new BatchshipError("CANCELLED", `Build ${build.id} was stopped: the release was cancelled`, {
      hint: "release it again with --retry to build it anew",
    });
  }
  const failed = build.phases.find((p) => p.status !== undefined && p.status !== "SUCCEEDED");
  const where = failed ? ` in phase ${failed.name}` : "";
  const contexts = failed?.contexts.length ? `: ${failed.contexts.join("; ")}` : "";
  const log = build.logUrl ? `build log: ${build.logUrl}` : undefined;
  const retry = earlier ? "it failed in an earlier run; release it again with --retry to build it anew" : undefined;
  const hint = [retry, log].filter((part) => part !== undefined).join("; ");
  return new BatchshipError(
    "BUILD_FAILED",
    `Build ${build.id} ${build.detail ?? "failed"}${where}${contexts}`,
    hint === "" ? {} : { hint },
  );
}
