/**
 * Where the newest revision number of each job definition name outlives the process that saw it:
 * the service's store, so a restarted service looks up as a warm one; a cache file for the CLI
 * and the Action (revision-hint-file.ts). A saved number is only ever a lookup's hint: a stale or
 * wrong one costs calls (newest-revisions.ts), never a wrong answer.
 */
export interface RevisionHintStore {
  /** The number saved under `key`, if any. May throw (an unreadable file): the caller goes without. */
  read(key: string): number | undefined;
  /** Saves `revision` under `key`. May fail: the caller goes on without it. */
  write(key: string, revision: number): void | Promise<void>;
}

/** One Batch's hints, by job definition name. */
export interface KeptRevisionHints {
  read(name: string): Promise<number | undefined>;
  /** Saves what this process now knows as the newest number of `name`, when it changed. */
  write(name: string, revision: number): void;
}

/** Revision numbers are 32-bit integers. */
const HIGHEST_REVISION = 2 ** 31 - 1;

/**
 * The hints of one Batch in `store`: `scope` tells Batches apart (region, profile, endpoint), so
 * that two accounts used from one machine do not mislead each other's lookups.
 */
export function keptRevisionHints(store: RevisionHintStore, scope: () => Promise<string>, debug?: (message: string) => void): KeptRevisionHints {
  // What is known to be saved, per name: a write that would not change it is not made.
  const saved = new Map<string, number>();
  const keyOf = async (name: string) => `${await scope()} ${name}`;
  const report = (what: string, error: unknown) =>
    debug?.(`could not ${what} (${error instanceof Error ? error.message : String(error)}): a new process's first lookup of it may take more calls`);
  return {
    async read(name) {
      try {
        const value = store.read(await keyOf(name));
        if (value === undefined || !Number.isSafeInteger(value) || value < 1 || value > HIGHEST_REVISION) return undefined;
        saved.set(name, value);
        return value;
      } catch (error) {
        report(`read the saved newest revision of ${name}`, error);
        return undefined;
      }
    },
    write(name, revision) {
      if (saved.get(name) === revision) return;
      saved.set(name, revision);
      void (async () => store.write(await keyOf(name), revision))().catch((error: unknown) => {
        saved.delete(name);
        report(`save the newest revision of ${name}`, error);
      });
    },
  };
}

/** A scope for `keptRevisionHints`: the region, the profile and the endpoint the clients use. */
export function revisionHintScope(region: () => Promise<string>, env: Readonly<Record<string, string | undefined>>, endpoint?: string): () => Promise<string> {
  const rest = [env.AWS_PROFILE, endpoint ?? env.AWS_ENDPOINT_URL_BATCH ?? env.AWS_ENDPOINT_URL].map((part) => part || "-").join(" ");
  return async () => `${await region()} ${rest}`;
}
