import type { EngineContext } from "../context.js";
import { findOrCreate } from "../find-or-create.js";
import type { JobDefinitionRevision } from "../ports.js";
import { newestRevision } from "../revision-lookup.js";
import { TAG } from "../tags.js";

/** Why a release did not become production, and what did instead (when known). */
export interface Supersession {
  /** The newer commit that wins; null when there is none to name (the branch was deleted). */
  commit: string | null;
  /** The release of that commit, when production runs it. */
  releaseId: string | null;
  reason: string;
}

/** The revision production runs now: the newest ACTIVE one (a job submitted by name runs it). */
export function productionOf(revisions: readonly JobDefinitionRevision[]): JobDefinitionRevision | undefined {
  return revisions[0];
}

const short = (sha: string): string => sha.slice(0, 12);

/**
 * Production moves only to the branch's head: a commit the branch has moved past (a newer push,
 * a force push back) is superseded by the head. Undecided (null) without history or when the
 * head cannot be read: the queue's order is then all there is.
 */
export async function notTheHead(ctx: EngineContext, commit: string, branch: string): Promise<Supersession | null> {
  const head = await ctx.history?.headOf(branch);
  if (head === undefined || head === commit) return null;
  if (head === null) return { commit: null, releaseId: null, reason: `branch ${branch} no longer exists` };
  return { commit: head, releaseId: null, reason: `branch ${branch} has moved on to ${short(head)}` };
}

/** A commit production's commit already holds is older than production: going there is going back. */
export async function olderThanProduction(
  ctx: EngineContext,
  production: JobDefinitionRevision | undefined,
  commit: string,
): Promise<Supersession | null> {
  const running = production?.tags[TAG.commit];
  if (production === undefined || running === undefined || running === commit) return null;
  if ((await ctx.history?.contains(running, commit)) !== true) return null;
  return {
    commit: running,
    releaseId: production.tags[TAG.release] ?? null,
    reason: `production (${production.name}:${production.revision}) runs ${short(running)}, which already contains ${short(commit)}`,
  };
}

/**
 * Batch has no compare-and-swap: two promoters may each read production, judge their commit
 * newer, and register, and the one registering last wins whatever its commit. So each promoter,
 * after registering `mine` (tagged with the revision it replaced), reads production again. Only
 * the promoter whose revision is on top acts: if a revision registered between the one it
 * replaced and its own carries a commit that contains its commit, it registered over a newer
 * release, and it registers that release's body again. The one on top is always the one to act,
 * and it acts on a fixed window, so two promoters never undo each other and a promoter that
 * crashed here settles when its release is run again (its revision still names the window).
 * Without history nothing can be judged and nothing is restored. The window is read from the
 * newest production revisions: promotions racing this one are among them.
 */
export async function settleConcurrentPromotions(
  ctx: EngineContext,
  productionName: string,
  mine: JobDefinitionRevision,
): Promise<{ restored: JobDefinitionRevision; over: Supersession } | null> {
  const { platform } = ctx.backend;
  const myCommit = mine.tags[TAG.commit];
  const replaced = Number(mine.tags[TAG.replaces]);
  if (ctx.history === undefined || myCommit === undefined || !Number.isInteger(replaced)) return null;
  const { revisions } = await platform.newestJobDefinitionRevisions(productionName);
  const top = productionOf(revisions);
  // Run again after settling: the restored revision names this one as what it replaced, and is a
  // release registered inside this one's window (a promotion judged against this one is not).
  const inWindow = (release: string | undefined) =>
    release !== undefined && revisions.some((r) => r.revision > replaced && r.revision < mine.revision && r.tags[TAG.release] === release);
  if (top !== undefined && top.arn !== mine.arn && top.tags[TAG.replaces] === String(mine.revision) && top.tags[TAG.commit] !== undefined && inWindow(top.tags[TAG.release])) {
    const commit = top.tags[TAG.commit] ?? "";
    return { restored: top, over: { commit, releaseId: top.tags[TAG.release] ?? null, reason: `${short(commit)} was promoted at the same time and contains ${short(myCommit)}` } };
  }
  if (top?.arn !== mine.arn) return null;
  const concurrent = revisions.filter(
    (r) => r.revision > replaced && r.revision < mine.revision && r.tags[TAG.rollbackOf] === undefined && r.tags[TAG.commit] !== undefined && r.tags[TAG.commit] !== myCommit,
  );
  for (const newer of concurrent) {
    const newerCommit = newer.tags[TAG.commit] ?? "";
    if ((await ctx.history.contains(newerCommit, myCommit)) !== true) continue;
    const tags = { ...newer.tags, [TAG.replaces]: String(mine.revision) };
    const { value } = await findOrCreate(
      ctx,
      async () => {
        const top = await newestRevision(platform, productionName);
        return top?.tags[TAG.release] === newer.tags[TAG.release] && top?.tags[TAG.replaces] === String(mine.revision) ? top : undefined;
      },
      async (): Promise<JobDefinitionRevision> => ({ name: productionName, ...(await platform.registerJobDefinition(productionName, newer.body, tags)), body: newer.body, tags }),
    );
    return {
      restored: value,
      over: {
        commit: newerCommit,
        releaseId: newer.tags[TAG.release] ?? null,
        reason: `${productionName}:${newer.revision} (${short(newerCommit)}, which contains ${short(myCommit)}) was promoted at the same time; production runs it again`,
      },
    };
  }
  return null;
}
