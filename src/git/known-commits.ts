/**
 * Commits known to be in a mirror, so that the releases of a commit already fetched start
 * without running git. Git only adds objects to a mirror with one exception, garbage collection,
 * and `gc --auto` prunes unreachable objects only once they are two weeks old (`gc.pruneExpire`):
 * an entry is trusted for an hour, far inside that. Deleting a mirror (retention) forgets its
 * entries first. At most `maxPerMirror` entries per mirror, the oldest dropped first: a
 * forgotten commit costs one `git cat-file`, never a wrong answer.
 */
export interface KnownCommits {
  has(mirror: string, commit: string): boolean;
  add(mirror: string, commit: string): void;
  forget(mirror: string): void;
}

const TRUSTED_MS = 60 * 60_000;
const MAX_PER_MIRROR = 4096;

export function createKnownCommits(now: () => number = Date.now): KnownCommits {
  const mirrors = new Map<string, Map<string, number>>();
  return {
    has(mirror, commit) {
      const seenAt = mirrors.get(mirror)?.get(commit);
      return seenAt !== undefined && now() - seenAt < TRUSTED_MS;
    },
    add(mirror, commit) {
      let commits = mirrors.get(mirror);
      if (commits === undefined) mirrors.set(mirror, (commits = new Map()));
      // Re-inserted, so the Map's order stays oldest first.
      commits.delete(commit);
      commits.set(commit, now());
      for (const oldest of commits.keys()) {
        if (commits.size <= MAX_PER_MIRROR) break;
        commits.delete(oldest);
      }
    },
    forget(mirror) {
      mirrors.delete(mirror);
    },
  };
}
