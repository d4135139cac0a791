import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkoutHistory } from "../../src/git/source-history.js";
import type { EngineContext } from "../../src/release/context.js";
import { promoteRelease } from "../../src/release/promote-release.js";
import { rollbackPipeline } from "../../src/release/rollback.js";
import { runRelease } from "../../src/release/run-release.js";
import { TAG } from "../../src/release/tags.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { makeSpec } from "../support/spec.js";
import { startEngineHarness, type EngineHarness } from "./harness.js";

const QUEUES = ["newer-last", "older-last", "flag", "head", "flag-again", "rerun"];

let h: EngineHarness;
let repo: TestRepo;

beforeAll(async () => {
  [h, repo] = await Promise.all([startEngineHarness(QUEUES), createTestRepo()]);
});
afterAll(async () => Promise.all([h?.close(), repo?.remove()]));

function pipeline(name: string, mode: "auto" | "manual" = "manual", retention?: { candidates: number; production: number }) {
  return makeSpec({ name, image: { repository: name }, jobDefinition: { name }, canary: { jobQueue: name }, promotion: { mode }, ...(retention ? { retention } : {}) });
}

/** An engine that knows the test repository's history, like the CLI in a checkout. */
function engine(): EngineContext {
  return { ...h.engine().ctx, history: checkoutHistory(repo.dir) };
}

/** Two commits, the newer containing the older, each released to awaiting promotion (canary passed). */
async function twoReleases(name: string): Promise<{ older: string; newer: string }> {
  const older = await repo.commit({ [`${name}.txt`]: "older" });
  const newer = await repo.commit({ [`${name}.txt`]: "newer" });
  for (const commit of [older, newer]) {
    expect((await runRelease(engine(), { spec: pipeline(name), commit, branch: "main" })).status).toBe("awaiting-promotion");
  }
  return { older, newer };
}

/**
 * An engine whose first registration under `name` first lets `meanwhile` run to its end: the
 * other promoter registers between this one's look at production and its own registration.
 */
function racedEngine(name: string, meanwhile: () => Promise<unknown>): EngineContext {
  const ctx = engine();
  let raced = false;
  const platform = ctx.backend.platform;
  return {
    ...ctx,
    backend: {
      ...ctx.backend,
      platform: {
        ...platform,
        listJobDefinitionRevisions: (n) => platform.listJobDefinitionRevisions(n),
        tagJobDefinition: (arn, tags) => platform.tagJobDefinition(arn, tags),
        async registerJobDefinition(n, body, tags) {
          if (n === name && !raced) {
            raced = true;
            await meanwhile();
          }
          return platform.registerJobDefinition(n, body, tags);
        },
      },
    },
  };
}

async function production(name: string) {
  return h.engine().ctx.backend.platform.listJobDefinitionRevisions(name);
}

describe("promotions racing each other", () => {
  it("the older registered last: its promoter puts the newer one back on top and reports itself superseded", async () => {
    const { older, newer } = await twoReleases("newer-last");
    const spec = pipeline("newer-last");
    const raced = racedEngine("newer-last", () => promoteRelease(engine(), spec, newer));
    const result = await promoteRelease(raced, spec, older);

    expect(result.supersededBy).toMatchObject({ commit: newer, releaseId: `newer-last-${newer.slice(0, 12)}` });
    const revisions = await production("newer-last");
    expect(revisions.map((r) => r.tags[TAG.commit])).toEqual([newer, older, newer]);
    // The restored revision names the one it went over; the older one names what it judged against (nothing).
    expect(revisions[0]?.tags[TAG.replaces]).toBe(String(revisions[1]?.revision));
    expect(revisions[1]?.tags[TAG.replaces]).toBe("0");
    expect(revisions[0]?.body).toEqual(revisions[2]?.body);

    // Run again (a retry after a crash): it finds its promotion, sees it settled, and registers nothing.
    const again = await promoteRelease(engine(), spec, older);
    expect(again).toMatchObject({ alreadyPromoted: true, supersededBy: { commit: newer }, production: { revision: revisions[0]?.revision } });
    expect((await production("newer-last")).length).toBe(3);
  });

  it("the newer registered last: nothing to put right, production runs the newer", async () => {
    const { older, newer } = await twoReleases("older-last");
    const spec = pipeline("older-last");
    const raced = racedEngine("older-last", () => promoteRelease(engine(), spec, older));
    const result = await promoteRelease(raced, spec, newer);

    expect(result.supersededBy).toBeUndefined();
    expect(result.replaced).toBeNull();
    const revisions = await production("older-last");
    expect(revisions.map((r) => r.tags[TAG.commit])).toEqual([newer, older]);
  });
});

describe("promoting an older commit", () => {
  it("is refused without the flag, naming production; with it, production goes back and the result names what it replaced", async () => {
    const { older, newer } = await twoReleases("flag");
    const spec = pipeline("flag");
    const first = await promoteRelease(engine(), spec, newer);
    expect(first.replaced).toBeNull();

    await expect(promoteRelease(engine(), spec, older)).rejects.toMatchObject({
      code: "NOT_PROMOTABLE",
      message: expect.stringContaining(`production (flag:${first.production.revision}) runs ${newer.slice(0, 12)}, which already contains ${older.slice(0, 12)}`),
      hint: expect.stringContaining("--allow-older"),
    });
    expect(await production("flag")).toHaveLength(1);

    const back = await promoteRelease(engine(), spec, older, { allowOlder: true });
    expect(back.replaced).toMatchObject({ revision: first.production.revision, releaseId: `flag-${newer.slice(0, 12)}`, commit: newer });
    expect((await production("flag"))[0]?.tags[TAG.commit]).toBe(older);
  });

  it("one that production ran before is refused the same way; with the flag production goes back to it, once", async () => {
    const { older, newer } = await twoReleases("flag-again");
    const spec = pipeline("flag-again");
    await promoteRelease(engine(), spec, older);
    const live = await promoteRelease(engine(), spec, newer);

    // Its first promotion is still ACTIVE: that is not production, and not a reason to skip the rule.
    await expect(promoteRelease(engine(), spec, older)).rejects.toMatchObject({ code: "NOT_PROMOTABLE", hint: expect.stringContaining("--allow-older") });
    expect((await production("flag-again")).map((r) => r.tags[TAG.commit])).toEqual([newer, older]);

    const back = await promoteRelease(engine(), spec, older, { allowOlder: true });
    expect(back).toMatchObject({ alreadyPromoted: false, replaced: { revision: live.production.revision, commit: newer } });
    expect((await production("flag-again")).map((r) => r.tags[TAG.commit])).toEqual([older, newer, older]);
    const again = await promoteRelease(engine(), spec, older, { allowOlder: true });
    expect(again).toMatchObject({ alreadyPromoted: true, production: { revision: back.production.revision } });
    expect(await production("flag-again")).toHaveLength(3);

    // Rolled back from the older one to the newer: promoting the older again is going back, not
    // rolling forward, and needs the flag like any other.
    await rollbackPipeline(engine(), spec);
    await expect(promoteRelease(engine(), spec, older)).rejects.toMatchObject({ code: "NOT_PROMOTABLE", hint: expect.stringContaining("--allow-older") });
    expect((await production("flag-again")).map((r) => r.tags[TAG.commit])).toEqual([newer, older, newer, older]);
    expect(await promoteRelease(engine(), spec, older, { allowOlder: true })).toMatchObject({ alreadyPromoted: false, production: { revision: 5 } });
  });
});

describe("automatic promotion", () => {
  it("never takes production back to a commit it already contains: that release ends superseded", async () => {
    const older = await repo.commit({ "head.txt": "older" });
    const newer = await repo.commit({ "head.txt": "newer" });
    const spec = pipeline("head", "auto");
    expect((await runRelease(engine(), { spec, commit: newer, branch: "main" })).status).toBe("promoted");
    const late = await runRelease(engine(), { spec, commit: older, branch: "main" });
    expect(late).toMatchObject({ status: "superseded", supersededBy: { commit: newer }, production: null, canary: { result: "passed" } });
    expect((await production("head")).map((r) => r.tags[TAG.commit])).toEqual([newer]);
  });

  it("a release run again after newer ones were promoted ends superseded, whether or not retention removed its revisions", async () => {
    const spec = pipeline("rerun", "auto", { candidates: 1, production: 3 });
    const commits: string[] = [];
    for (const label of ["one", "two", "three", "four"]) {
      const commit = await repo.commit({ "rerun.txt": label });
      commits.push(commit);
      expect((await runRelease(engine(), { spec, commit, branch: "main" })).status).toBe("promoted");
    }
    const [one = "", two = "", three = "", four = ""] = commits;
    // Retention after the last release kept production's three newest revisions and deregistered
    // one's, production and candidate; two's promotion is still ACTIVE.
    expect((await production("rerun")).map((r) => r.tags[TAG.commit])).toEqual([four, three, two]);

    for (const commit of [two, one]) {
      const again = await runRelease(engine(), { spec, commit, branch: "main" });
      expect(again, commit === two ? "its promotion still ACTIVE" : "its revisions deregistered").toMatchObject({
        status: "superseded",
        supersededBy: { commit: four, reason: expect.stringContaining(`which already contains ${commit.slice(0, 12)}`) },
        production: null,
        canary: { result: "passed" },
      });
    }
    expect((await production("rerun")).map((r) => r.tags[TAG.commit])).toEqual([four, three, two]);
  });
});
