import { HIGHEST_REVISION } from "./newest-revisions.js";

/**
 * Where the newest revision number of each job definition name outlives the process that saw it:
 * the service's store, so a restarted service looks up as a warm one; a cache file for the CLI
 * and the Action (revision-hint-file.ts). A saved number is only a lookup's hint
 * (newest-revisions.ts): checked against the anchor revision in its first call, and not used
 * once older than HINT_MAX_AGE_MS.
 */
export interface RevisionHintStore {
  /** The hint saved under `key`, if any. May throw (an unreadable file): the caller goes without. */
  read(key: string): SavedRevisionHint | undefined;
  /** Saves `hint` under `key`. May fail: the caller goes on without it. */
  write(key: string, hint: SavedRevisionHint): void | Promise<void>;
}

export interface SavedRevisionHint {
  revision: number;
  /** When it was saved, in milliseconds since the epoch. */
  savedAt: number;
}

/**
 * Batch deletes a revision 180 days after it was deregistered, and a deleted number reads as
 * never registered. A number seen less than 90 days ago is younger than any deletion of a
 * revision registered after it, so the numbers found around it are the newest even where the
 * anchor cannot check them (a production name's anchor may be deleted itself). An older one,
 * saved or remembered, is not used.
 */
export const HINT_MAX_AGE_MS = 90 * 24 * 60 * 60 * 1000;
/** An unchanged number is saved again after this long, so that it does not age out while right. */
const RESAVE_AFTER_MS = 24 * 60 * 60 * 1000;
/** A number saved further ahead than this came from a clock that was wrong: not used. */
const CLOCK_SKEW_MS = 24 * 60 * 60 * 1000;

/** One Batch's hints, by job definition name. */
export interface KeptRevisionHints {
  read(name: string): Promise<number | undefined>;
  /** Saves the newest number of `name` as this process confirmed it, when it changed or ages. */
  write(name: string, hint: SavedRevisionHint): void;
}

/**
 * The hints of one Batch in `store`. `scope` tells Batches apart as far as the environment can
 * (region, profile, endpoint); two accounts reached without a profile share a scope, which costs
 * their lookups calls, never a wrong answer.
 */
export function keptRevisionHints(
  store: RevisionHintStore,
  scope: () => Promise<string>,
  debug?: (message: string) => void,
  clock: { now(): number } = Date,
): KeptRevisionHints {
  const now = () => clock.now();
  // What is known to be saved, per name: a write that would not change it is not made.
  const saved = new Map<string, SavedRevisionHint>();
  const keyOf = async (name: string) => `${await scope()} ${name}`;
  const report = (what: string, error: unknown) =>
    debug?.(`could not ${what} (${error instanceof Error ? error.message : String(error)}): a new process's first lookup of it may take more calls`);
  return {
    async read(name) {
      try {
        const hint = store.read(await keyOf(name));
        if (hint === undefined) return undefined;
        const { revision, savedAt } = hint;
        if (!Number.isSafeInteger(revision) || revision < 1 || revision > HIGHEST_REVISION) return undefined;
        const age = now() - savedAt;
        if (!Number.isFinite(savedAt) || age > HINT_MAX_AGE_MS || age < -CLOCK_SKEW_MS) return undefined;
        saved.set(name, hint);
        return revision;
      } catch (error) {
        report(`read the saved newest revision of ${name}`, error);
        return undefined;
      }
    },
    write(name, hint) {
      const known = saved.get(name);
      if (known?.revision === hint.revision && Math.abs(hint.savedAt - known.savedAt) < RESAVE_AFTER_MS) return;
      saved.set(name, hint);
      void (async () => store.write(await keyOf(name), hint))().catch((error: unknown) => {
        saved.delete(name);
        report(`save the newest revision of ${name}`, error);
      });
    },
  };
}

/**
 * A scope for `keptRevisionHints`: the region, the profile and the endpoint the clients use. The
 * SDK reads them from the process's environment, so `env` is that.
 */
export function revisionHintScope(region: () => Promise<string>, env: Readonly<Record<string, string | undefined>>, endpoint?: string): () => Promise<string> {
  const rest = [env.AWS_PROFILE, endpoint ?? env.AWS_ENDPOINT_URL_BATCH ?? env.AWS_ENDPOINT_URL].map((part) => part || "-").join(" ");
  return async () => `${await region()} ${rest}`;
}
