import { BatchshipError } from "../../errors.js";
import type { PipelineSpec } from "../../spec/schema.js";
import type { ChangeWatch } from "../change-feed.js";
import type { EngineContext } from "../context.js";
import { pauseBeforePoll } from "../pause-between-polls.js";
import { contentKey, keyTag, keyTags, KEY_GENERATIONS, type BuildSources } from "../content-key.js";
import { BUILD_STOPPED, type BuildRequest, type BuildState, type ImageRepository, type Registry } from "../ports.js";

export interface BuiltImage {
  repository: ImageRepository;
  /** `repository@sha256:…` — everything after the build refers to this, never to a tag. */
  uri: string;
  digest: string;
  build: { id: string; logUrl?: string } | null;
  /** The image's content key, when its sources were known. */
  key?: string;
  /** Set when no build ran because an image with the same content key existed: the key tag it was found under. */
  reusedFrom?: string;
}

export interface BuildInput {
  spec: PipelineSpec;
  releaseId: string;
  commit: string;
  tags: readonly string[];
  /** The commit's build sources as git object ids; without them every commit builds. */
  sources?: BuildSources;
  /** Build even when an image with the same content exists (a base image moved on). */
  rebuild?: boolean;
  /** An explicit retry: a failed build of this release is built again instead of reported. */
  retry?: boolean;
}

/**
 * Stages build + image. An image already tagged with the commit (a retry, a resume, or another
 * pipeline on the same repository) is used as it is: the sha tag is immutable, so it is the
 * image of this commit. Otherwise an image with the same content key (docs/reuse.md) gets the
 * commit's tags, and only when there is none does a build run. A finished build records its
 * key on the image, so the next commit with the same content finds it.
 */
export async function buildImage(ctx: EngineContext, input: BuildInput): Promise<BuiltImage> {
  const { registry } = ctx.backend;
  const shaTag = input.tags[0];
  if (shaTag === undefined) throw new BatchshipError("SPEC_INVALID", "image.tags is empty");
  const repository = await registry.ensureRepository(input.spec.image.repository);
  const key = await keyOf(ctx, input);

  const existing = await registry.findDigest(repository, shaTag);
  if (existing !== undefined) {
    // A resume after a crash between the build's end and recording its key records it now.
    if (key !== undefined) await recordKey(ctx, registry, repository, key, existing);
    return image(repository, existing, null, key);
  }

  if (key !== undefined && input.spec.build.reuse && input.rebuild !== true) {
    const found = await newestGeneration(registry, repository, key);
    if (found !== undefined) {
      // The sha tag last: it is how a later run finds the image, so it must mean "all tags added".
      await addTags(registry, repository, found.digest, [...input.tags.slice(1), shaTag]);
      ctx.observe({ type: "image-reused", uri: `${repository.uri}@${found.digest}`, digest: found.digest, key, tag: found.tag });
      return { ...image(repository, found.digest, null, key), reusedFrom: found.tag };
    }
  }

  const built = await runBuild(ctx, input, repository, shaTag);
  if (key !== undefined) await recordKey(ctx, registry, repository, key, built.digest);
  return { ...built, ...(key === undefined ? {} : { key }) };
}

function image(repository: ImageRepository, digest: string, build: BuiltImage["build"], key: string | undefined): BuiltImage {
  return { repository, digest, uri: `${repository.uri}@${digest}`, build, ...(key === undefined ? {} : { key }) };
}

/** The content key, when the caller read the sources and the backend can say what it builds with. */
async function keyOf(ctx: EngineContext, input: BuildInput): Promise<string | undefined> {
  const { builder, registry } = ctx.backend;
  if (input.sources === undefined || builder.definition === undefined) return undefined;
  if (registry.findTags === undefined || registry.addTags === undefined) return undefined;
  const definition = await builder.definition(input.spec.build.project);
  return contentKey(input.sources, input.spec.image.buildArgs, definition);
}

async function newestGeneration(
  registry: Registry,
  repository: ImageRepository,
  key: string,
): Promise<{ tag: string; digest: string; generation: number } | undefined> {
  const found = (await registry.findTags?.(repository, keyTags(key))) ?? new Map<string, string>();
  for (let generation = KEY_GENERATIONS; generation >= 1; generation--) {
    const tag = keyTag(key, generation);
    const digest = found.get(tag);
    if (digest !== undefined) return { tag, digest, generation };
  }
  return undefined;
}

async function addTags(registry: Registry, repository: ImageRepository, digest: string, tags: readonly string[]): Promise<void> {
  if (registry.addTags === undefined) throw new BatchshipError("ENVIRONMENT", "This registry cannot add tags to an image");
  await registry.addTags(repository, digest, tags);
}

/**
 * Records the key on a built image as its newest generation, unless the newest already is this
 * image. It only helps later releases: when it fails (another release of the same content
 * recorded its own build at the same moment), this release goes on with its image.
 */
async function recordKey(ctx: EngineContext, registry: Registry, repository: ImageRepository, key: string, digest: string): Promise<void> {
  try {
    const newest = await newestGeneration(registry, repository, key);
    if (newest?.digest === digest) return;
    const generation = (newest?.generation ?? 0) + 1;
    if (generation > KEY_GENERATIONS) {
      ctx.observe({ type: "warning", message: `image ${digest} is not recorded under its content key: the key has ${KEY_GENERATIONS} builds already` });
      return;
    }
    await addTags(registry, repository, digest, [keyTag(key, generation)]);
  } catch (error) {
    if (!(error instanceof BatchshipError)) throw error;
    ctx.observe({ type: "warning", message: `recording the content key on image ${digest} failed; later commits may build again: ${error.message}` });
  }
}

async function runBuild(ctx: EngineContext, input: BuildInput, repository: ImageRepository, shaTag: string): Promise<BuiltImage> {
  const { registry, builder } = ctx.backend;
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
  return image(repository, digest, { id: finished.id, ...link(finished) }, undefined);
}

function link(build: BuildState): { logUrl?: string } {
  return build.logUrl === undefined ? {} : { logUrl: build.logUrl };
}

/** With a change feed the build is watched from here on; see followCanary for how polls and changes meet. */
async function followBuild(ctx: EngineContext, start: BuildState, timeoutMinutes: number): Promise<BuildState> {
  const watch = ctx.changes?.watch({ kind: "build", id: start.id });
  try {
    return await followWatched(ctx, start, timeoutMinutes, watch);
  } finally {
    watch?.close();
  }
}

async function followWatched(ctx: EngineContext, start: BuildState, timeoutMinutes: number, watch: ChangeWatch | undefined): Promise<BuildState> {
  // The provider enforces timeoutMinutes itself; the margin covers queueing and finalising.
  const deadline = ctx.clock.now() + (timeoutMinutes + 15) * 60_000;
  let build = start;
  let soon = true;
  let endAwaited = false;
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
    const nearDeadline = ctx.clock.now() + ctx.polling.safetyNetIntervalMs > deadline;
    const paused = await pauseBeforePoll(ctx, watch, ctx.polling.buildIntervalMs, soon || nearDeadline);
    endAwaited ||= paused.endReported;
    build = await readBuild(ctx, build);
    // A reported end the read does not show yet is a read that lags: poll again soon.
    soon = endAwaited && build.status === "in-progress";
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
