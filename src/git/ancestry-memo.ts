/** Answers kept: plenty for the promotions in flight; a dropped one is asked of git again. */
const MAX_KEPT = 4096;

/**
 * Whether one commit holds another, asked of git once per pair and repository: ancestry is fixed
 * by the commits' ids. Callers asking while git runs share the run. Only yes and no are kept: an
 * unknown answer (a commit missing, a fetch that failed) is asked again next time.
 */
export function createAncestryMemo(): {
  ask(repository: string, descendant: string, ancestor: string, answer: () => Promise<boolean | undefined>): Promise<boolean | undefined>;
} {
  const kept = new Map<string, Promise<boolean | undefined>>();
  return {
    ask(repository, descendant, ancestor, answer) {
      const key = `${repository} ${descendant} ${ancestor}`;
      const found = kept.get(key);
      if (found !== undefined) return found;
      const asking = answer();
      kept.set(key, asking);
      asking.then(
        (known) => {
          if (known === undefined) kept.delete(key);
        },
        () => kept.delete(key),
      );
      for (const oldest of kept.keys()) {
        if (kept.size <= MAX_KEPT) break;
        kept.delete(oldest);
      }
      return asking;
    },
  };
}
