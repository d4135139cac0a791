import { DescribeJobDefinitionsCommand, type DescribeJobDefinitionsCommandInput, type JobDefinition } from "@aws-sdk/client-batch";
import { NEWEST_WINDOW, type JobDefinitionRevision, type NewestRevisions } from "../release/ports.js";
import { ANCHOR_REVISION, TAG } from "../release/tags.js";
import type { AwsClients } from "./clients.js";
import { toJobDefinitionRevision } from "./batch-mapping.js";
import { awsCall } from "./errors.js";

/** DescribeJobDefinitions: at most 100 a page, and at most 100 `jobDefinitions` in one call. */
export const DESCRIBE_PAGE = 100;
/** Revision numbers are 32-bit integers. */
export const HIGHEST_REVISION = 2 ** 31 - 1;
// The window's call covers the bracket the newest revision is in and the numbers below it, so a
// bracket this narrow leaves at least NEWEST_WINDOW of the newest numbers in the window.
const BRACKET = DESCRIBE_PAGE - NEWEST_WINDOW;

export interface NewestSearch {
  /** A recent revision number of the name (what this process last saw of it), if any. */
  hint?: number;
  /**
   * The hint was saved by an earlier process: the anchor revision rides in the hint's call, and
   * its hint wins when it is above what the hint's numbers found. A saved number may be older
   * than revisions Batch has deleted since (180 days after their deregistration), which read as
   * never registered: numbers found around it could then pass for the newest.
   */
  checkHint?: boolean;
  /** Why a search took more calls than it could have (no usable hint on the anchor revision). */
  debug?: (message: string) => void;
  /**
   * Another name whose anchor revision the search's first call describes too, in a slot of its
   * own numbers: that name's hint, for a lookup of it that follows.
   */
  companion?: string;
}

export interface NewestFound extends NewestRevisions {
  /** The newest revision number found, in any status; 0 when none. The next search's hint. */
  newestNumber: number;
  /** The hint the companion's anchor revision carries, when it carries one. */
  companionHint?: number;
}

/**
 * The ACTIVE revisions among the newest NEWEST_WINDOW revision numbers of a name, in a number
 * of DescribeJobDefinitions calls that does not grow with the name's history. It never lists the
 * name (Batch documents no order for that listing, so only the last page could be trusted to hold
 * the newest): every call describes up to 100 `name:rev` at once, in any status (a deregistered
 * revision stays describable).
 *
 * With a hint h of the newest number, one call describes the 100 numbers from h-89 to h+10: the
 * newest is the highest found when that is below h+10, and the newest 90 are in the same call.
 * When h+10 exists too (the hint is stale), the next 100 numbers follow, then the search below.
 * A hint an earlier process saved (`checkHint`) gives up h+10 to the anchor, whose own hint is
 * followed when it is higher than the highest number found.
 * The hint comes from the caller's memory, or else from the tag TAG.newestRevision on revision
 * ANCHOR_REVISION, which the search's first call describes anyway. A companion name's anchor
 * takes one slot of the first call (h+10, or one of step 1's geometric numbers below), so the
 * lookup of that name that follows has its hint without a call of its own. Without a usable hint:
 *
 * 1. the numbers 1 to 90, then numbers growing geometrically to the 32-bit limit: the newest
 *    revision lies between the highest that exists and the next;
 * 2. numbers spread evenly across that bracket, each call narrowing it a hundredfold, until it is
 *    at most DESCRIBE_PAGE - NEWEST_WINDOW wide;
 * 3. the 100 numbers that end at the bracket's top (not asked again when already described).
 *
 * A hint never decides the answer, only which numbers are asked: a wrong one costs calls. With a
 * hint at most 9 below the newest (8 with a companion; 8 and 7 for a saved hint, whose call holds
 * the anchor) a search takes one call; with the anchor's, two (one for a name with up to 90
 * revisions); with none, one up to 90 revisions, three to four for hundreds to 10,000, five for
 * a million; a name never registered two (the second, a listing, proves it empty).
 * Batch deletes a revision 180 days after it is deregistered, so numbers of long-deregistered
 * revisions read as never registered. Whenever the anchor has been read, its hint overrides
 * numbers above the highest found that read as missing: they were deleted. Otherwise the search
 * assumes deleted numbers lie below a number it finds (so a hint older than the 180 days is not
 * given: revision-hints.ts), and a hint's call that finds nothing is ignored. When the newest
 * revision it finds is not ACTIVE (batchship keeps a name's newest revision ACTIVE) it pages the
 * whole ACTIVE history rather than guess.
 */
export async function newestRevisions(
  batch: AwsClients["batch"],
  name: string,
  listAll: () => Promise<JobDefinitionRevision[]>,
  search: NewestSearch = {},
): Promise<NewestFound> {
  const operation = `look up the newest job definition revisions of ${name}`;
  const describe = async (input: DescribeJobDefinitionsCommandInput) =>
    (await awsCall(operation, () => batch.send(new DescribeJobDefinitionsCommand(input)))) as { jobDefinitions?: JobDefinition[]; nextToken?: string };
  // Every number described so far, and what it was: a number already described is not asked for again.
  const probed = new Map<number, JobDefinition | undefined>();
  // The companion's anchor, until the first call has described it: that call asks one number less.
  let riders = search.companion === undefined || search.companion === name ? [] : [`${search.companion}:${ANCHOR_REVISION}`];
  let companionHint: number | undefined;
  const page = () => DESCRIBE_PAGE - riders.length;
  const existing = async (numbers: number[]) => {
    const asked = numbers.filter((n) => !probed.has(n));
    if (asked.length > 0) {
      const found = (await describe({ jobDefinitions: [...asked.map((n) => `${name}:${n}`), ...riders] })).jobDefinitions ?? [];
      const companion = riders.length > 0 ? search.companion : undefined;
      riders = [];
      for (const n of asked) probed.set(n, undefined);
      for (const d of found) {
        if (d.jobDefinitionName === name && d.revision !== undefined) probed.set(d.revision, d);
        else if (d.jobDefinitionName === companion && d.revision === ANCHOR_REVISION) companionHint = anchorHint(d);
      }
    }
    return numbers.flatMap((n) => probed.get(n) ?? []);
  };
  // lo exists (or is 0), hi is the lowest number known not to exist.
  let lo = 0;
  let hi: number | undefined;
  const settled = () => hi !== undefined && hi - lo <= BRACKET;
  const learn = async (numbers: number[]) => {
    const found = new Set((await existing(numbers)).map((d) => d.revision as number));
    lo = Math.max(lo, ...found);
    const missing = numbers.find((n) => n > lo && !found.has(n));
    if (missing !== undefined) hi = Math.min(hi ?? missing, missing);
    else if (lo === HIGHEST_REVISION) hi = HIGHEST_REVISION + 1;
    return found.size;
  };
  let anchorRead = false;
  /**
   * Acts on the anchor's hint, read in a call already made, when it is above the highest number
   * found. Revisions up to it were registered, so numbers above lo that read as missing were
   * deleted (180 days after their deregistration), not never registered: the search goes on
   * around the hint. A hint at or below lo (it lags) says nothing new. Returns whether it acted.
   */
  const followAnchor = async (): Promise<boolean> => {
    anchorRead = true;
    const anchor = anchorHint(probed.get(ANCHOR_REVISION));
    if (anchor === undefined && !settled()) {
      search.debug?.(`${name}:${ANCHOR_REVISION} carries no ${TAG.newestRevision} tag (${probed.get(ANCHOR_REVISION) === undefined ? "it does not exist" : "not written yet, or refused"}): the newest revision is searched for without the anchor's hint`);
    }
    if (anchor === undefined || anchor <= lo) return false;
    hi = undefined;
    await around(anchor);
    return true;
  };
  const around = async (hint: number, withAnchor = false): Promise<void> => {
    const from = Math.max(1, hint - NEWEST_WINDOW + 1);
    const anchor = withAnchor && from > ANCHOR_REVISION ? [ANCHOR_REVISION] : [];
    const window = range(from, Math.min(HIGHEST_REVISION, from + page() - anchor.length - 1));
    // The anchor is asked in the window's call, but only the window's numbers are learnt from.
    if (anchor.length > 0) await existing([...window, ...anchor]);
    // Numbers that all read as never registered say nothing sure (deleted ones look the same).
    const before = { lo, hi };
    if ((await learn(window)) === 0) ({ lo, hi } = before);
    // The anchor's hint first: it may make the numbers above the window needless.
    if (withAnchor && (await followAnchor())) return;
    if (!settled() && lo === window.at(-1)) await learn(range(lo + 1, Math.min(HIGHEST_REVISION, lo + DESCRIBE_PAGE)).filter((n) => n < (hi ?? Infinity)));
  };

  if (search.hint !== undefined && search.hint >= 1) await around(Math.min(search.hint, HIGHEST_REVISION), search.checkHint === true);
  while (!settled()) {
    // The first call: every number a short history has, so it answers alone, and revision 1,
    // whose hint answers a long one in the next call.
    await learn(hi === undefined ? gallop(lo, lo === 0 ? NEWEST_WINDOW : 0, page()) : spread(lo, hi));
    if (!anchorRead && probed.has(ANCHOR_REVISION)) await followAnchor();
  }
  // No revision found: a name never registered, which one listing call shows, or one whose
  // revisions all fell between the numbers asked, which only the listing finds.
  const companion = companionHint === undefined ? {} : { companionHint };
  if (lo === 0) return { revisions: await listAll(), complete: true, newestNumber: 0, ...companion };
  const top = hi === lo + 1 ? lo : (hi as number) - 1;
  const window = range(Math.max(1, top - (hi === lo + 1 ? NEWEST_WINDOW : DESCRIBE_PAGE) + 1), top);
  const described = await existing(window);
  const newest = described.reduce<JobDefinition | undefined>((n, d) => (n === undefined || (d.revision ?? 0) > (n.revision ?? 0) ? d : n), undefined);
  // The newest revision of a name batchship keeps is ACTIVE; anything else is not understood here.
  if (newest?.status !== "ACTIVE") return { revisions: await listAll(), complete: true, newestNumber: newest?.revision ?? lo, ...companion };
  const revisions = newestFirst(described.filter((d) => d.status === "ACTIVE").map(toJobDefinitionRevision));
  return { revisions, complete: window[0] === 1, newestNumber: newest.revision ?? lo, ...companion };
}

/** The revision number TAG.newestRevision holds on the anchor revision, when it is one. */
function anchorHint(anchor: JobDefinition | undefined): number | undefined {
  const value = anchor?.tags?.[TAG.newestRevision];
  const hint = value === undefined || !/^[1-9][0-9]{0,9}$/.test(value) ? undefined : Number(value);
  return hint !== undefined && hint <= HIGHEST_REVISION ? hint : undefined;
}

function newestFirst(revisions: JobDefinitionRevision[]): JobDefinitionRevision[] {
  return revisions.sort((a, b) => b.revision - a.revision);
}

/**
 * Up to `size` numbers above `lo`: the first `contiguous` of them, then numbers growing
 * geometrically to the highest revision number.
 */
function gallop(lo: number, contiguous: number, size: number): number[] {
  const numbers = new Set<number>(range(lo + 1, Math.min(HIGHEST_REVISION, lo + contiguous)));
  const base = lo + contiguous;
  const rest = size - contiguous;
  const ratio = Math.pow(Math.max(1, HIGHEST_REVISION - base), 1 / (rest - 1));
  for (let k = 0; k < rest; k++) numbers.add(Math.min(HIGHEST_REVISION, base + Math.max(k + 1, Math.ceil(Math.pow(ratio, k)))));
  return [...numbers].sort((a, b) => a - b);
}

/** Up to 100 numbers spread evenly strictly between `lo` and `hi`. */
function spread(lo: number, hi: number): number[] {
  const count = Math.min(DESCRIBE_PAGE, hi - lo - 1);
  const numbers = new Set<number>();
  for (let k = 1; k <= count; k++) numbers.add(lo + Math.round((k * (hi - lo)) / (count + 1)));
  return [...numbers].filter((n) => n > lo && n < hi).sort((a, b) => a - b);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
