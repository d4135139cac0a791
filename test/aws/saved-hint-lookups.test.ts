import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsBackend, type RevisionHintStore } from "../../src/aws/index.js";
import { HINT_MAX_AGE_MS } from "../../src/aws/revision-hints.js";
import type { JobPlatform } from "../../src/release/ports.js";
import { TAG } from "../../src/release/tags.js";
import { EMULATOR_ACCOUNT_ID, EMULATOR_REGION, startEmulator, testClientConfig, type Emulator } from "../emulator/index.js";
import { seedJobDefinitionHistory, tagSeeded } from "../emulator/job-definition-history.js";

// "lived": 150 revisions, the newest 30 ACTIVE and revision 1 (the anchor, as retention keeps a
// candidate name's) too; 2..120 deregistered, and Batch has since deleted them.
const LIVED = 150;
const LIVED_ACTIVE = 30;
const DELETED_UP_TO = 120;
// "plain": 120 revisions, all ACTIVE.
const PLAIN = 120;
// "revisited": at first as "lived"; a test registers more and ages them.
const numbersFrom = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
  await seedJobDefinitionHistory(emulator.motoEndpoint, "lived", { count: LIVED, active: LIVED_ACTIVE, anchor: true, keptActive: (n) => n === 1 });
  await seedJobDefinitionHistory(emulator.motoEndpoint, "plain", { count: PLAIN, active: PLAIN, anchor: true });
  await seedJobDefinitionHistory(emulator.motoEndpoint, "revisited", { count: LIVED, active: LIVED_ACTIVE, anchor: true, keptActive: (n) => n === 1 });
  for (const name of ["lived", "revisited"]) emulator.jobDefinitions.deleteDeregistered(numbersFrom(2, DELETED_UP_TO).map((n) => arnOf(name, n)));
}, 60_000);
afterAll(async () => {
  await emulator?.close();
});

const arnOf = (name: string, revision: number) => `arn:aws:batch:${EMULATOR_REGION}:${EMULATOR_ACCOUNT_ID}:job-definition/${name}:${revision}`;

/** A new process that finds `saved` as the newest numbers an earlier one saved, by name. */
function processWithSaved(saved: Record<string, number>): JobPlatform {
  const store: RevisionHintStore = {
    read: (key) => {
      const revision = saved[key.split(" ").at(-1) ?? ""];
      return revision === undefined ? undefined : { revision, savedAt: Date.now() };
    },
    write: () => undefined,
  };
  return createAwsBackend(testClientConfig(emulator), { revisionHints: store }).platform;
}

/** The newest revisions, and the DescribeJobDefinitions calls finding them took. */
async function lookup(platform: JobPlatform, name: string, upcoming?: string) {
  const start = emulator.calls.length;
  const found = await platform.newestJobDefinitionRevisions(name, upcoming === undefined ? {} : { upcoming });
  const calls = emulator.calls.slice(start).filter((c) => c.operation === "DescribeJobDefinitions");
  for (const call of calls) expect(call.input).not.toHaveProperty("jobDefinitionName");
  return { found, calls: calls.map((c) => (c.input as { jobDefinitions: string[] }).jobDefinitions) };
}

const newestNumber = (found: Awaited<ReturnType<typeof lookup>>["found"]) => found.revisions[0]?.revision;

describe("lookups of a name whose older revisions Batch has deleted", () => {
  it("a new process with nothing saved: the anchor's hint overrides numbers that read as missing", async () => {
    // The first call finds revision 1 alone below 121 (2..120 deleted): without the anchor's
    // hint the search would take revision 1 for the newest.
    const { found, calls } = await lookup(processWithSaved({}), "lived");

    expect(newestNumber(found)).toBe(LIVED);
    expect(calls).toHaveLength(2);
  });

  it("a number this process saw more than 90 days ago is not used: what was registered since may be deleted", async () => {
    let now = Date.now();
    const platform = createAwsBackend(testClientConfig(emulator), { clock: { now: () => now } }).platform;
    expect(newestNumber((await lookup(platform, "revisited")).found)).toBe(LIVED);
    // Since then: 100 more registered, 151..240 deregistered and deleted; revision 1 says 250.
    await seedJobDefinitionHistory(emulator.motoEndpoint, "revisited", { count: 100, active: 10 });
    emulator.jobDefinitions.deleteDeregistered(numbersFrom(LIVED + 1, LIVED + 90).map((n) => arnOf("revisited", n)));
    await tagSeeded(emulator.motoEndpoint, arnOf("revisited", 1), { [TAG.newestRevision]: String(LIVED + 100) });
    now += HINT_MAX_AGE_MS + 1;

    const { found, calls } = await lookup(platform, "revisited");

    expect(newestNumber(found)).toBe(LIVED + 100);
    // The search without a hint: revision 1 alone below 121, then the numbers around its hint.
    expect(calls).toHaveLength(2);
  });
});

describe("lookups from a number an earlier process saved", () => {
  it("a saved number still right: one call, which checks it against the anchor", async () => {
    const { found, calls } = await lookup(processWithSaved({ plain: PLAIN }), "plain");

    expect(newestNumber(found)).toBe(PLAIN);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toContain("plain:1");
    expect(calls[0]).toHaveLength(100);
  });

  it("a number saved before revisions above it were registered and deleted again: the anchor finds the newest", async () => {
    // Saved when revision 50 was the newest; Batch has deleted 2..120 since, and only the anchor
    // is left below 121. The numbers around 50 find the anchor alone.
    const { found, calls } = await lookup(processWithSaved({ lived: 50 }), "lived");

    expect(newestNumber(found)).toBe(LIVED);
    expect(found.revisions.map((r) => r.revision)).toEqual(Array.from({ length: LIVED_ACTIVE }, (_, i) => LIVED - i));
    expect(calls).toHaveLength(2);
  });

  it("a number saved for another account, far above this one's newest: the anchor in the same call finds it", async () => {
    const { found, calls } = await lookup(processWithSaved({ plain: 5_000 }), "plain");

    expect(newestNumber(found)).toBe(PLAIN);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toContain("plain:1");
  });

  it("a saved number a little behind, the anchor's tag further behind still (lagging): two calls, as before the check", async () => {
    // Saved at 50 of "plain" (newest 120) while revision 1 says 40: the numbers above the window
    // are asked next; the lagging tag leads nowhere.
    await tagSeeded(emulator.motoEndpoint, arnOf("plain", 1), { [TAG.newestRevision]: "40" });
    try {
      const { found, calls } = await lookup(processWithSaved({ plain: 50 }), "plain");

      expect(newestNumber(found)).toBe(PLAIN);
      expect(calls).toHaveLength(2);
    } finally {
      await tagSeeded(emulator.motoEndpoint, arnOf("plain", 1), { [TAG.newestRevision]: String(PLAIN) });
    }
  });

  it("an anchor read in this process comes before a saved number", async () => {
    // The saved number for "plain" is far behind; the candidate-like lookup of "lived" reads
    // plain's anchor in its first call, and plain's lookup starts from that.
    const platform = processWithSaved({ plain: 20 });
    expect(newestNumber((await lookup(platform, "lived", "plain")).found)).toBe(LIVED);

    const { found, calls } = await lookup(platform, "plain");

    expect(newestNumber(found)).toBe(PLAIN);
    expect(calls).toHaveLength(1);
  });
});
