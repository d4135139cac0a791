import type { BuildSources } from "../release/content-key.js";
import { readBuildSources } from "./build-sources.js";

/** Reads kept: plenty for the releases of the commits in flight; a dropped one is read again. */
const MAX_KEPT = 4096;

/**
 * readBuildSources, read once per commit, context and Dockerfile of a repository: what a commit
 * holds is fixed by its id, so the answer never goes stale. Callers asking while the read runs
 * share it; a failed read is not kept.
 */
export function createBuildSourcesMemo(): { read(path: string, commit: string, image: { context: string; dockerfile: string }): Promise<BuildSources> } {
  const kept = new Map<string, Promise<BuildSources>>();
  return {
    read(path, commit, image) {
      const key = JSON.stringify([path, commit, image.context, image.dockerfile]);
      const found = kept.get(key);
      if (found !== undefined) return found;
      const reading = readBuildSources(path, commit, image);
      kept.set(key, reading);
      reading.catch(() => kept.delete(key));
      for (const oldest of kept.keys()) {
        if (kept.size <= MAX_KEPT) break;
        kept.delete(oldest);
      }
      return reading;
    },
  };
}
