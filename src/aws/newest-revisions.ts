import { DescribeJobDefinitionsCommand, type DescribeJobDefinitionsCommandInput, type JobDefinition } from "@aws-sdk/client-batch";
import { NEWEST_WINDOW, type JobDefinitionRevision, type NewestRevisions } from "../release/ports.js";
import type { AwsClients } from "./clients.js";
import { toJobDefinitionRevision } from "./batch-mapping.js";
import { awsCall } from "./errors.js";

/** DescribeJobDefinitions: at most 100 a page, and at most 100 `jobDefinitions` in one call. */
export const DESCRIBE_PAGE = 100;
/** Revision numbers are 32-bit integers. */
const HIGHEST_REVISION = 2 ** 31 - 1;
// The window's call covers the bracket the newest revision is in and the numbers below it, so a
// bracket this narrow leaves at least NEWEST_WINDOW of the newest numbers in the window.
const BRACKET = DESCRIBE_PAGE - NEWEST_WINDOW;

/**
 * The ACTIVE revisions among the newest NEWEST_WINDOW revision numbers of a name, in a number
 * of DescribeJobDefinitions calls that does not grow with the name's history. It never lists the
 * name (Batch documents no order for that listing, so only the last page could be trusted to hold
 * the newest): every call describes up to 100 `name:rev` at once, in any status (a deregistered
 * revision stays describable).
 *
 * 1. numbers growing geometrically from 1 to the 32-bit limit: the newest revision lies between
 *    the highest that exists and the next;
 * 2. numbers spread evenly across that bracket, each call narrowing it a hundredfold, until it is
 *    at most DESCRIBE_PAGE - NEWEST_WINDOW wide;
 * 3. the 100 numbers that end at the bracket's top (not asked again when already described).
 *
 * A name with a few revisions takes one call, with hundreds three, with 10,000 four; a name
 * never registered two (the second, a listing, proves it empty).
 * Batch deletes a revision 180 days after it is deregistered, so numbers of long-deregistered
 * revisions read as never registered: the search assumes those all lie below a number the first
 * call finds. When the newest revision it finds is not ACTIVE (batchship keeps a name's newest
 * revision ACTIVE) it pages the whole ACTIVE history rather than guess.
 */
export async function newestRevisions(
  batch: AwsClients["batch"],
  name: string,
  listAll: () => Promise<JobDefinitionRevision[]>,
): Promise<NewestRevisions> {
  const operation = `look up the newest job definition revisions of ${name}`;
  const describe = async (input: DescribeJobDefinitionsCommandInput) =>
    (await awsCall(operation, () => batch.send(new DescribeJobDefinitionsCommand(input)))) as { jobDefinitions?: JobDefinition[]; nextToken?: string };
  // Every number described so far, and what it was: a window already described is not asked for again.
  const probed = new Map<number, JobDefinition | undefined>();
  const existing = async (numbers: number[]) => {
    const asked = numbers.filter((n) => !probed.has(n));
    if (asked.length > 0) {
      const found = (await describe({ jobDefinitions: asked.map((n) => `${name}:${n}`) })).jobDefinitions ?? [];
      for (const n of asked) probed.set(n, undefined);
      for (const d of found) if (d.jobDefinitionName === name && d.revision !== undefined) probed.set(d.revision, d);
    }
    return numbers.flatMap((n) => probed.get(n) ?? []);
  };
  // lo exists (or is 0), hi is the lowest number known not to exist.
  let lo = 0;
  let hi: number | undefined;
  while (hi === undefined || hi - lo > BRACKET) {
    const probes = hi === undefined ? gallop(lo) : spread(lo, hi);
    const found = new Set((await existing(probes)).map((d) => d.revision));
    const above = probes.filter((n) => found.has(n));
    lo = Math.max(lo, ...above);
    hi = probes.find((n) => n > lo && !found.has(n)) ?? hi ?? HIGHEST_REVISION + 1;
  }
  // No revision found: a name never registered, which one listing call shows, or one whose
  // revisions all fell between the numbers asked, which only the listing finds.
  if (lo === 0) return { revisions: await listAll(), complete: true };
  const window = range(Math.max(1, hi - DESCRIBE_PAGE), hi - 1);
  const described = await existing(window);
  const newest = described.reduce<JobDefinition | undefined>((n, d) => (n === undefined || (d.revision ?? 0) > (n.revision ?? 0) ? d : n), undefined);
  // The newest revision of a name batchship keeps is ACTIVE; anything else is not understood here.
  if (newest?.status !== "ACTIVE") return { revisions: await listAll(), complete: true };
  const revisions = newestFirst(described.filter((d) => d.status === "ACTIVE").map(toJobDefinitionRevision));
  return { revisions, complete: window[0] === 1 };
}

function newestFirst(revisions: JobDefinitionRevision[]): JobDefinitionRevision[] {
  return revisions.sort((a, b) => b.revision - a.revision);
}

/** Up to 100 numbers above `lo`, growing geometrically to the highest revision number. */
function gallop(lo: number): number[] {
  const ratio = Math.pow(HIGHEST_REVISION - lo, 1 / (DESCRIBE_PAGE - 1));
  const numbers = new Set<number>();
  for (let k = 0; k < DESCRIBE_PAGE; k++) numbers.add(Math.min(HIGHEST_REVISION, lo + Math.max(k + 1, Math.ceil(Math.pow(ratio, k)))));
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
