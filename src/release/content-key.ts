import { createHash } from "node:crypto";
import type { BuildDefinition } from "./ports.js";

/** One path the build reads, as git stores it at the commit. */
export interface SourceEntry {
  path: string;
  /** `tree`, `blob` or `commit` (a submodule); `absent` when the commit has nothing there. */
  type: string;
  /** git's object id: it changes whenever anything below the path changes. */
  id: string;
  mode: string;
}

/** Everything of a commit a build reads, as git object ids (read by src/git/build-sources.ts). */
export interface BuildSources {
  context: SourceEntry;
  dockerfile: SourceEntry;
  /** `<Dockerfile>.dockerignore`, which BuildKit prefers over the context's `.dockerignore`. */
  dockerfileIgnore: SourceEntry;
}

/** An image's content key tag: `batchship-key-<sha-256>`, then `-2`, `-3`… for rebuilds. */
export const KEY_TAG_PREFIX = "batchship-key-";
/**
 * Rebuilds of one content key (`--rebuild`, `build.reuse: false`) each add a generation; the
 * newest is the one reused. All generations are looked up in one registry call (ECR's
 * BatchGetImage takes 100 ids), so there are at most this many.
 */
export const KEY_GENERATIONS = 100;

/**
 * Everything a build reads, hashed: the context's and Dockerfile's git object ids (with their
 * paths), the build arguments, and the backend's build definition and platform. Two commits
 * with the same key build the same image, so the second reuses the first's.
 */
export function contentKey(sources: BuildSources, buildArgs: Readonly<Record<string, string>>, definition: BuildDefinition): string {
  const args = Object.keys(buildArgs)
    .sort()
    .map((name) => [name, buildArgs[name]]);
  const canonical = JSON.stringify({
    key: 1,
    definition: { version: definition.version, platform: definition.platform },
    context: entry(sources.context),
    dockerfile: entry(sources.dockerfile),
    dockerfileIgnore: entry(sources.dockerfileIgnore),
    buildArgs: args,
  });
  return createHash("sha256").update(canonical).digest("hex");
}

/** The tags a key's generations are recorded under, first generation first. */
export function keyTags(key: string): string[] {
  return Array.from({ length: KEY_GENERATIONS }, (_, index) => keyTag(key, index + 1));
}

export function keyTag(key: string, generation: number): string {
  return generation === 1 ? `${KEY_TAG_PREFIX}${key}` : `${KEY_TAG_PREFIX}${key}-${generation}`;
}

function entry(e: BuildSources["context"]): string[] {
  return [e.path, e.type, e.mode, e.id];
}
