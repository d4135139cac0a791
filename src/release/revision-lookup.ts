import type { JobDefinitionRevision, JobPlatform, NewestLookupOptions, NewestRevisions } from "./ports.js";
import { previousLiveRevision } from "./rollback.js";
import { TAG } from "./tags.js";

/**
 * The release path's lookups of job definition revisions: they read the newest revisions of a
 * name (`newestJobDefinitionRevisions`), whose cost does not grow with the name's history, and
 * read the whole ACTIVE history only when the newest cannot answer and the answer may be older.
 */

/** What a lookup found, and the window it looked in (for a second question on the same listing). */
export interface Lookup<T> {
  found: T | undefined;
  newest: NewestRevisions;
}

/**
 * The first revision `matches` accepts, newest first. Looked for in the newest revisions; in the
 * whole ACTIVE history only when it is not there, the window is not the whole history, and
 * `mayBeOlder` says an older revision could match. Without that, a miss in the newest is the
 * answer: the caller knows nothing older can match (what it looks for did not exist before this
 * run, or retention would have removed it).
 */
export async function findRevision(
  platform: JobPlatform,
  name: string,
  matches: (revision: JobDefinitionRevision) => boolean,
  mayBeOlder: boolean,
  lookup: NewestLookupOptions = {},
): Promise<Lookup<JobDefinitionRevision>> {
  const newest = await platform.newestJobDefinitionRevisions(name, lookup);
  const found = newest.revisions.find(matches);
  if (found !== undefined || newest.complete || !mayBeOlder) return { found, newest };
  return { found: (await platform.listJobDefinitionRevisions(name)).find(matches), newest };
}

/** The newest ACTIVE revision of a name (production: what a job submitted by name runs). */
export async function newestRevision(platform: JobPlatform, name: string): Promise<JobDefinitionRevision | undefined> {
  const newest = await platform.newestJobDefinitionRevisions(name);
  if (newest.revisions.length > 0 || newest.complete) return newest.revisions[0];
  // Every revision in the window was deregistered: only the whole history can say.
  return (await platform.listJobDefinitionRevisions(name))[0];
}

/**
 * The production revisions the rollback target is judged on: the newest, and the whole ACTIVE
 * history only when the newest do not settle it — no target among them, or a rollback among them
 * naming a revision older than they reach (the release it undid must be known as rolled back).
 */
export async function rollbackHistory(platform: JobPlatform, name: string): Promise<JobDefinitionRevision[]> {
  const newest = await platform.newestJobDefinitionRevisions(name);
  const { revisions } = newest;
  const current = revisions[0];
  if (newest.complete || current === undefined) return newest.complete ? revisions : platform.listJobDefinitionRevisions(name);
  const arns = new Set(revisions.map((r) => r.arn));
  const unresolved = revisions.some((r) => r.tags[TAG.rollbackOf] !== undefined && !arns.has(r.tags[TAG.rollbackOf] ?? ""));
  if (!unresolved && previousLiveRevision(revisions, current) !== undefined) return revisions;
  return platform.listJobDefinitionRevisions(name);
}
