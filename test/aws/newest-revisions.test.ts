import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsBackend } from "../../src/aws/index.js";
import { NEWEST_WINDOW, type JobDefinitionRevision, type JobPlatform } from "../../src/release/ports.js";
import { TAG } from "../../src/release/tags.js";
import { EMULATOR_ACCOUNT_ID, EMULATOR_REGION, startEmulator, testClientConfig, type Emulator } from "../emulator/index.js";
import { seedJobDefinitionHistory, tagSeeded } from "../emulator/job-definition-history.js";

// More than one call's worth (100) of numbers, so that without a hint the newest is searched for.
const HISTORY = 120;
// Revisions 1..AGED_INACTIVE of "aged" are deregistered (revision 1, the anchor, among them).
const AGED = 110;
const AGED_INACTIVE = 20;
const CROWDED = 110;

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
  // One at a time: moto fails registrations that run concurrently.
  await seedJobDefinitionHistory(emulator.motoEndpoint, "hist", { count: HISTORY, active: HISTORY, anchor: true });
  await seedJobDefinitionHistory(emulator.motoEndpoint, "aged", { count: AGED, active: AGED - AGED_INACTIVE, anchor: 7 });
  // Revision 1 already carries Batch's 50 tags: it cannot take the hint.
  const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`team-${i}`, "x"]));
  await seedJobDefinitionHistory(emulator.motoEndpoint, "crowded", { count: CROWDED, active: CROWDED, tags: (n) => (n === 1 ? fifty : {}) });
}, 60_000);
afterAll(async () => {
  await emulator?.close();
});

const arnOf = (name: string, revision: number) => `arn:aws:batch:${EMULATOR_REGION}:${EMULATOR_ACCOUNT_ID}:job-definition/${name}:${revision}`;
const setAnchor = (name: string, value: string) => tagSeeded(emulator.motoEndpoint, arnOf(name, 1), { [TAG.newestRevision]: value });

/** A platform as a new process has it: nothing seen yet. */
function freshPlatform(debug?: (message: string) => void): JobPlatform {
  return createAwsBackend(testClientConfig(emulator), debug === undefined ? {} : { debug }).platform;
}

/** The newest revisions, and how many DescribeJobDefinitions calls finding them took. */
async function lookup(platform: JobPlatform, name: string) {
  const start = emulator.calls.length;
  const found = await platform.newestJobDefinitionRevisions(name);
  const calls = emulator.calls.slice(start).filter((c) => c.operation === "DescribeJobDefinitions");
  // Never a listing of the name: its pages grow with the history.
  for (const call of calls) expect(call.input).not.toHaveProperty("jobDefinitionName");
  return { found, calls: calls.length };
}

/** The newest NEWEST_WINDOW ACTIVE revisions, read the long way (every page of the name). */
async function newestByListing(name: string): Promise<number[]> {
  const all = await freshPlatform().listJobDefinitionRevisions(name);
  return all.slice(0, NEWEST_WINDOW).map((r) => r.revision);
}

const numbers = (revisions: JobDefinitionRevision[]) => revisions.slice(0, NEWEST_WINDOW).map((r) => r.revision);

describe("the newest revisions with a hint of the newest number", () => {
  it("a new process reads the anchor's hint in its first call and the newest in its second; after that one call", async () => {
    const platform = freshPlatform();
    const first = await lookup(platform, "hist");
    const second = await lookup(platform, "hist");

    expect(first.calls).toBe(2);
    expect(second.calls).toBe(1);
    for (const { found } of [first, second]) {
      expect(found.revisions[0]?.revision).toBe(HISTORY);
      expect(numbers(found.revisions)).toEqual(await newestByListing("hist"));
      expect(found.complete).toBe(false);
    }
  });

  it.each([
    // Two calls, as with an exact anchor: the hint's call reaches 10 above it.
    ["two behind, as racing registrations may leave it", HISTORY - 2, 2],
    // At most what the search without a hint takes on this history.
    ["above the newest", HISTORY + 40, 4],
    ["far below the newest", 3, 4],
  ])("an anchor %s costs calls, never the answer", async (_, anchor, calls) => {
    await setAnchor("hist", String(anchor));
    const result = await lookup(freshPlatform(), "hist");

    expect(result.found.revisions[0]?.revision).toBe(HISTORY);
    expect(numbers(result.found.revisions)).toEqual(await newestByListing("hist"));
    expect(result.calls).toBeLessThanOrEqual(calls);
  });

  it("a lookup told of an upcoming name reads that name's hint in its own first call: the next lookup of it is one call", async () => {
    await setAnchor("hist", String(HISTORY));
    const platform = freshPlatform();
    const describedBy = async (work: () => Promise<unknown>) => {
      const start = emulator.calls.length;
      await work();
      return emulator.calls.slice(start).filter((c) => c.operation === "DescribeJobDefinitions").map((c) => (c.input as { jobDefinitions: string[] }).jobDefinitions);
    };
    let crowded: JobDefinitionRevision[] = [];
    const first = await describedBy(async () => ({ revisions: crowded } = await platform.newestJobDefinitionRevisions("crowded", { upcoming: "hist" })));
    const alone = await lookup(freshPlatform(), "crowded");
    const hist = await lookup(platform, "hist");
    const again = await describedBy(() => platform.newestJobDefinitionRevisions("crowded", { upcoming: "hist" }));

    // The upcoming name's anchor takes a slot of the first call, not a call of its own, and
    // changes no answer.
    expect(first[0]).toContain("hist:1");
    for (const names of first) expect(names.length).toBeLessThanOrEqual(100);
    expect(first.length).toBe(alone.calls);
    expect(numbers(crowded)).toEqual(await newestByListing("crowded"));
    expect(hist.calls).toBe(1);
    expect(numbers(hist.found.revisions)).toEqual(await newestByListing("hist"));
    // Once the process knows the name, nothing rides along.
    expect(again.flat().some((entry) => entry.startsWith("hist:"))).toBe(false);
  });

  it("an upcoming name's anchor rides in a lookup that has a hint too: one call of 100, the same answer", async () => {
    await setAnchor("hist", String(HISTORY));
    const platform = freshPlatform();
    await lookup(platform, "crowded");

    const start = emulator.calls.length;
    const crowded = await platform.newestJobDefinitionRevisions("crowded", { upcoming: "hist" });
    const calls = emulator.calls.slice(start).filter((c) => c.operation === "DescribeJobDefinitions").map((c) => (c.input as { jobDefinitions: string[] }).jobDefinitions);
    const hist = await lookup(platform, "hist");

    expect(calls).toHaveLength(1);
    expect(calls[0]).toHaveLength(100);
    expect(calls[0]).toContain("hist:1");
    expect(numbers(crowded.revisions)).toEqual(await newestByListing("crowded"));
    expect(hist.calls).toBe(1);
  });

  it("an upcoming name's anchor far above its newest costs its first lookup calls, not every lookup after", async () => {
    await setAnchor("hist", String(HISTORY + 400));
    const platform = freshPlatform();
    await platform.newestJobDefinitionRevisions("crowded", { upcoming: "hist" });

    const first = await lookup(platform, "hist");
    const next = await lookup(platform, "hist");

    expect(first.found.revisions[0]?.revision).toBe(HISTORY);
    expect(first.calls).toBeGreaterThan(1);
    expect(next.calls).toBe(1);
    expect(numbers(next.found.revisions)).toEqual(await newestByListing("hist"));
  });

  it("an anchor that names an INACTIVE revision, on an INACTIVE anchor, still finds the newest ACTIVE", async () => {
    const result = await lookup(freshPlatform(), "aged");

    expect(result.found.revisions[0]?.revision).toBe(AGED);
    expect(result.found.revisions.every((r) => r.revision > AGED_INACTIVE)).toBe(true);
    expect(numbers(result.found.revisions)).toEqual(await newestByListing("aged"));
  });

  it("without a usable anchor the search runs without a hint and says so", async () => {
    await setAnchor("hist", "not-a-number");
    const said: string[] = [];
    const result = await lookup(freshPlatform((m) => said.push(m)), "hist");

    expect(result.found.revisions[0]?.revision).toBe(HISTORY);
    expect(numbers(result.found.revisions)).toEqual(await newestByListing("hist"));
    expect(said.join("\n")).toContain(`hist:1 carries no ${TAG.newestRevision} tag`);
  });

  it("a registration moves the anchor, and a process whose memory is stale still finds the newest", async () => {
    const before = freshPlatform();
    await lookup(before, "hist");
    const other = freshPlatform();
    const body = (await before.listJobDefinitionRevisions("hist"))[0]?.body;
    if (body === undefined) throw new Error("hist has no revision");
    // Another process registers more than the 10 numbers a hint's call reaches above it.
    const start = emulator.calls.length;
    let newest = 0;
    for (let i = 0; i < 15; i++) newest = (await other.registerJobDefinition("hist", body, { [TAG.newestRevision]: "999" })).revision;
    const tagged = emulator.calls.slice(start).filter((c) => c.operation === "TagResource");

    expect(newest).toBe(HISTORY + 15);
    expect(tagged).toHaveLength(15);
    const registered = await other.listJobDefinitionRevisions("hist");
    // A tag copied from another revision is not written: only the anchor holds a hint.
    expect(registered[0]?.tags[TAG.newestRevision]).toBeUndefined();
    expect(registered.find((r) => r.revision === 1)?.tags[TAG.newestRevision]).toBe(String(newest));

    const stale = await lookup(before, "hist");
    expect(stale.found.revisions[0]?.revision).toBe(newest);
    expect(stale.calls).toBe(2);
    const anchored = await lookup(freshPlatform(), "hist");
    expect(anchored.found.revisions[0]?.revision).toBe(newest);
    expect(anchored.calls).toBe(2);
    expect(numbers(anchored.found.revisions)).toEqual(await newestByListing("hist"));
  });

  it("a registration whose hint Batch refuses still registers, and says why lookups will cost more", async () => {
    const said: string[] = [];
    const platform = freshPlatform((m) => said.push(m));
    const body = (await platform.listJobDefinitionRevisions("aged"))[0]?.body;
    if (body === undefined) throw new Error("aged has no revision");
    // Every attempt of the anchor's TagResource fails (the SDK retries a 500).
    emulator.faults.throttle("TagResource", 10, "500");
    try {
      const registered = await platform.registerJobDefinition("aged", body, {});
      expect(registered.revision).toBe(AGED + 1);
    } finally {
      emulator.faults.clear();
    }
    expect(said.join("\n")).toContain(`could not tag ${arnOf("aged", 1)} with ${TAG.newestRevision}=${AGED + 1}`);
    // The stale hint (7) still gives the right answer.
    expect((await lookup(freshPlatform(), "aged")).found.revisions[0]?.revision).toBe(AGED + 1);
  });

  it("a name whose revision 1 has 50 tags gets no hint: registrations go on, lookups search without one", async () => {
    const said: string[] = [];
    const platform = freshPlatform((m) => said.push(m));
    const body = (await platform.listJobDefinitionRevisions("crowded"))[0]?.body;
    if (body === undefined) throw new Error("crowded has no revision");

    const registered = await platform.registerJobDefinition("crowded", body, {});
    expect(registered.revision).toBe(CROWDED + 1);
    expect(said.join("\n")).toContain(`could not tag ${arnOf("crowded", 1)}`);
    const [anchor] = emulator.calls.filter((c) => c.operation === "TagResource" && c.input.resourceArn === arnOf("crowded", 1));
    expect(anchor?.status).toBe(400);

    const result = await lookup(freshPlatform((m) => said.push(m)), "crowded");
    expect(result.found.revisions[0]?.revision).toBe(CROWDED + 1);
    expect(numbers(result.found.revisions)).toEqual(await newestByListing("crowded"));
    expect(said.join("\n")).toContain(`crowded:1 carries no ${TAG.newestRevision} tag`);
  });
});
