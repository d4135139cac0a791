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
 * of DescribeJobDefinitions calls that does not grow with the name's history:
 *
 * 1. one page of the name's ACTIVE revisions. Without a next page that is all of them.
 * 2. Otherwise the newest revision number is searched for by describing up to 100 `name:rev`
 *    at once (any status: a deregistered revision stays describable): from the newest ACTIVE
 *    revision on that page, numbers growing geometrically up to the 32-bit limit, then numbers
 *    spread evenly across the bracket the newest is in (each call narrows it a hundredfold).
 * 3. one call for the 100 numbers that end at the bracket's top: the newest revision and at least
 *    NEWEST_WINDOW - 1 below it.
 *
 * A name of 10,000 revisions takes five calls, of a million six. Batch deletes a revision 180
 * days after it was deregistered; the search assumes no deleted revision is newer than the
 * newest ACTIVE one the first page shows, and when the newest it finds is not ACTIVE it pages
 * the whole ACTIVE history instead of guessing.
 */
export async function newestRevisions(
  batch: AwsClients["batch"],
  name: string,
  listAll: () => Promise<JobDefinitionRevision[]>,
): Promise<NewestRevisions> {
  const operation = `look up the newest job definition revisions of ${name}`;
  const describe = async (input: DescribeJobDefinitionsCommandInput) =>
    (await awsCall(operation, () => batch.send(new DescribeJobDefinitionsCommand(input)))) as { jobDefinitions?: JobDefinition[]; nextToken?: string };
  const first = await describe({ jobDefinitionName: name, status: "ACTIVE", maxResults: DESCRIBE_PAGE });
  const firstPage = (first.jobDefinitions ?? []).map(toJobDefinitionRevision).filter((r) => r.name === name);
  if (!first.nextToken) return { revisions: newestFirst(firstPage), complete: true };

  const existing = async (numbers: number[]) =>
    numbers.length === 0
      ? []
      : (await describe({ jobDefinitions: numbers.map((n) => `${name}:${n}`) })).jobDefinitions ?? [];
  // lo exists (or is 0), hi is the lowest number known not to exist.
  let lo = Math.max(0, ...firstPage.map((r) => r.revision));
  let hi: number | undefined;
  while (hi === undefined || hi - lo > BRACKET) {
    const probes = hi === undefined ? gallop(lo) : spread(lo, hi);
    const found = new Set((await existing(probes)).filter((d) => d.jobDefinitionName === name).map((d) => d.revision));
    const above = probes.filter((n) => found.has(n));
    lo = Math.max(lo, ...above);
    hi = probes.find((n) => n > lo && !found.has(n)) ?? hi ?? HIGHEST_REVISION + 1;
  }
  const window = range(Math.max(1, hi - DESCRIBE_PAGE), hi - 1);
  const described = (await existing(window)).filter((d) => d.jobDefinitionName === name);
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
