import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsBackend, type RevisionHintStore } from "../../src/aws/index.js";
import type { JobPlatform } from "../../src/release/ports.js";
import { EMULATOR_ACCOUNT_ID, EMULATOR_REGION, startEmulator, testClientConfig, type Emulator } from "../emulator/index.js";
import { seedJobDefinitionHistory } from "../emulator/job-definition-history.js";

// "lived": 150 revisions, the newest 30 ACTIVE and revision 1 (the anchor, as retention keeps a
// candidate name's) too; 2..120 deregistered, and Batch has since deleted them.
const LIVED = 150;
const LIVED_ACTIVE = 30;
const DELETED_UP_TO = 120;
// "plain": 120 revisions, all ACTIVE.
const PLAIN = 120;

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
  await seedJobDefinitionHistory(emulator.motoEndpoint, "lived", { count: LIVED, active: LIVED_ACTIVE, anchor: true, keptActive: (n) => n === 1 });
  await seedJobDefinitionHistory(emulator.motoEndpoint, "plain", { count: PLAIN, active: PLAIN, anchor: true });
  emulator.jobDefinitions.deleteDeregistered(Array.from({ length: DELETED_UP_TO - 1 }, (_, i) => arnOf("lived", i + 2)));
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

  it("an anchor read in this process comes before a saved number", async () => {
    // The saved number for "plain" is far behind; the candidate-like lookup of "lived" reads
    // plain's anchor in its first call, and plain's lookup starts from that.
    const platform = processWithSaved({ plain: 20 });
    await lookup(platform, "lived", "plain");

    const { found, calls } = await lookup(platform, "plain");

    expect(newestNumber(found)).toBe(PLAIN);
    expect(calls).toHaveLength(1);
  });
});
