import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRelease } from "../../src/release/run-release.js";
import { TAG } from "../../src/release/tags.js";
import { seedJobDefinitionHistory } from "../emulator/job-definition-history.js";
import { makeSpec } from "../support/spec.js";
import { randomSha, startEngineHarness, type EngineHarness } from "./harness.js";

// Hundreds of revisions, all ACTIVE as before retention, each a release of its own (so the
// newest also hold a rollback target), revision 1 holding the newest number as batchship leaves it.
const LONG = 240;

let h: EngineHarness;
beforeAll(async () => {
  h = await startEngineHarness(["short", "long"]);
  const seed = (name: string, count: number) =>
    seedJobDefinitionHistory(h.emulator.motoEndpoint, name, { count, active: count, anchor: true, tags: (n) => ({ [TAG.release]: `${name}-${n}`, [TAG.canary]: "passed" }) });
  // One at a time: moto fails registrations that run concurrently.
  for (const [name, count] of [["short-canary", 3], ["short", 3], ["long-canary", LONG], ["long", LONG]] as const) await seed(name, count);
}, 120_000);
afterAll(async () => {
  await h?.close();
});

// Retention at its most keeps what the lookups look at.
const pipeline = (name: string) =>
  makeSpec({ name, image: { repository: name }, jobDefinition: { name }, canary: { jobQueue: name }, retention: { candidates: 90, production: 90 } });

/** A release's DescribeJobDefinitions calls, as they reached the emulator. */
async function describeCallsOf(name: string, commit: string) {
  const start = h.emulator.calls.length;
  const result = await runRelease(h.engine().ctx, { spec: pipeline(name), commit, branch: "main" });
  const calls = h.emulator.calls.slice(start);
  return {
    result,
    describes: calls.filter((c) => c.operation === "DescribeJobDefinitions").map((c) => c.input as Record<string, unknown>),
    registrations: calls.filter((c) => c.operation === "RegisterJobDefinition").length,
  };
}

describe("lookups that do not grow with history", () => {
  it("a release on a long history never pages it, and makes as many calls as on a short one", async () => {
    // The first release of each name in this process: no memory of either name yet.
    const short = await describeCallsOf("short", randomSha());
    const long = await describeCallsOf("long", randomSha());
    // The next: the process remembers each name's newest number.
    const shortAgain = await describeCallsOf("short", randomSha());
    const longAgain = await describeCallsOf("long", randomSha());

    for (const run of [short, long, shortAgain, longAgain]) expect(run.result.status).toBe("promoted");
    // The new revisions follow the history: nothing was taken for older than it is.
    expect(long.result.candidate?.revision).toBe(LONG + 1);
    expect(long.result.production?.revision).toBe(LONG + 1);
    for (const input of [short, long, shortAgain, longAgain].flatMap((run) => run.describes)) {
      // No listing of a name (its pages would grow with the history): only revisions by number.
      expect(input).not.toHaveProperty("jobDefinitionName");
      expect((input["jobDefinitions"] as unknown[]).length).toBeLessThanOrEqual(100);
    }
    // A process that remembers the names: each lookup is one call, whatever the history.
    expect(longAgain.describes.length).toBe(shortAgain.describes.length);
    // A new process: the first lookup of each name reads the hint on revision 1, then the
    // newest around it — one call more per name than a history that fits in one call, and no
    // more for 10,000 revisions (npm run bench:history).
    expect(long.describes.length).toBe(short.describes.length + 2);
  });

  it("a release run again on a long history finds its candidate and its promotion: nothing is registered twice", async () => {
    const commit = randomSha();
    const first = await describeCallsOf("long", commit);
    expect(first.result.status).toBe("promoted");

    const again = await describeCallsOf("long", commit);

    expect(again.result).toMatchObject({ status: "promoted", candidate: first.result.candidate, production: first.result.production });
    expect(again.registrations).toBe(0);
    for (const input of again.describes) expect(input).not.toHaveProperty("jobDefinitionName");
  });
});
