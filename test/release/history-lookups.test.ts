import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findCanaryJob } from "../../src/release/canary-logs.js";
import { createAwsBackend, createRevisionHintFile, type RevisionHintStore } from "../../src/aws/index.js";
import type { Backend } from "../../src/release/ports.js";
import { openStore } from "../../src/store/index.js";
import { applyRecord } from "../../src/release/gitops/apply-record.js";
import type { ReleaseRecord } from "../../src/release/gitops/record.js";
import type { ReleaseResult } from "../../src/release/result.js";
import { runRelease } from "../../src/release/run-release.js";
import { pipelineStatus } from "../../src/release/status.js";
import { TAG } from "../../src/release/tags.js";
import { testClientConfig } from "../emulator/index.js";
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

let earlierLong: ReleaseResult | undefined;

/** DescribeJobDefinitions calls of `work`, each checked to be no listing of a name. */
async function describesOf<T>(work: () => Promise<T>): Promise<{ value: T; describes: number }> {
  const start = h.emulator.calls.length;
  const value = await work();
  const describes = h.emulator.calls.slice(start).filter((c) => c.operation === "DescribeJobDefinitions");
  for (const call of describes) expect(call.input).not.toHaveProperty("jobDefinitionName");
  return { value, describes: describes.length };
}

// Retention at its most keeps what the lookups look at.
const pipeline = (name: string) =>
  makeSpec({ name, image: { repository: name }, jobDefinition: { name }, canary: { jobQueue: name }, retention: { candidates: 90, production: 90 } });

/** A release's DescribeJobDefinitions calls, as they reached the emulator; with `backend`, a process of its own. */
async function describeCallsOf(name: string, commit: string, backend?: Backend) {
  const start = h.emulator.calls.length;
  const { ctx } = h.engine();
  const result = await runRelease(backend === undefined ? ctx : { ...ctx, backend }, { spec: pipeline(name), commit, branch: "main" });
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
    earlierLong = long.result;
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
    // A new process: the first lookup, the candidate's, reads the hint on the candidate name's
    // revision 1 and production's in the same call, then the newest candidates around the hint:
    // one call more than a history that fits in one call, and no more for 10,000 revisions (npm
    // run bench:history). Every later lookup is one call, production's first included.
    expect(long.describes.length).toBe(short.describes.length + 1);
    expect(short.describes.length).toBe(shortAgain.describes.length);
    expect(long.describes[0]?.["jobDefinitions"]).toContain("long:1");
  });

  it("a new process with the hints an earlier one saved (a restarted service, a CLI or Action run with its cache) makes as many calls as a warm one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "batchship-hints-"));
    const store = openStore(join(dir, "batchship.sqlite"));
    try {
      const saved: [string, RevisionHintStore, () => Promise<unknown>][] = [
        // The service's: saved with the store's next group commit, so the test waits for that.
        ["the service's store", store.revisionHints, () => store.batched(() => undefined)],
        ["the CLI's and the Action's cache file", createRevisionHintFile(join(dir, "revision-hints.json")), async () => undefined],
      ];
      for (const [where, hints, committed] of saved) {
        const newProcess = () => createAwsBackend(testClientConfig(h.emulator), { revisionHints: hints });
        // The process that saves: it has seen both names by the end of its releases.
        const earlier = newProcess();
        for (const name of ["short", "long"]) expect((await describeCallsOf(name, randomSha(), earlier)).result.status).toBe("promoted");
        await committed();

        const short = await describeCallsOf("short", randomSha(), newProcess());
        const long = await describeCallsOf("long", randomSha(), newProcess());
        const warm = await describeCallsOf("long", randomSha(), earlier);

        expect(long.result.status, where).toBe("promoted");
        expect(long.describes.length, where).toBe(short.describes.length);
        expect(long.describes.length, where).toBe(warm.describes.length);
        // The candidate lookup starts around the saved number, checked against revision 1 in the
        // same call, instead of searching up to the highest number a revision can have.
        expect(long.describes[0]?.["jobDefinitions"], where).toContain("long-canary:1");
        expect(long.describes[0]?.["jobDefinitions"], where).not.toContain("long-canary:2147483647");
      }
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
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

  it("status, a canary's logs and a release record read the newest revisions, not the history", async () => {
    const { ctx } = h.engine();
    const spec = pipeline("long");
    const earlier = earlierLong;
    if (earlier?.production == null || earlier.image === null) throw new Error("the first test's release on long did not run");

    const status = await describesOf(() => pipelineStatus(ctx, spec));
    expect(status.value.production?.revision).toBeGreaterThan(earlier.production.revision);
    expect(status.value.candidates[0]?.promoted).toBe(true);
    expect(status.describes).toBe(2);
    // A new process (a CLI or Action run): one call more than a short history (the candidate
    // name's anchor); production's hint comes along in the candidates' first call.
    const fresh = () => ({ ...ctx, backend: createAwsBackend(testClientConfig(h.emulator)) });
    const coldLong = await describesOf(() => pipelineStatus(fresh(), spec));
    const coldShort = await describesOf(() => pipelineStatus(fresh(), pipeline("short")));
    expect(coldLong.value).toEqual(status.value);
    expect(coldLong.describes).toBe(coldShort.describes + 1);

    const canary = await describesOf(() => findCanaryJob(ctx, spec, earlier.releaseId));
    expect(canary.value.job.jobId).toBe(earlier.canary?.jobId);
    expect(canary.describes).toBe(1);

    // A record going back to the earlier release: a rollback, judged on the newest revisions alone.
    const promoted = (await ctx.backend.platform.newestJobDefinitionRevisions("long")).revisions.find((r) => r.revision === earlier.production?.revision);
    if (promoted === undefined) throw new Error("the earlier promotion is not among the newest");
    const record = {
      apiVersion: "batchship/v1",
      kind: "ReleaseRecord",
      pipeline: "long",
      releaseId: earlier.releaseId,
      commit: earlier.commit,
      image: { uri: earlier.image.uri, digest: earlier.image.digest },
      candidate: earlier.candidate,
      canary: null,
      jobDefinition: { name: "long", body: promoted.body, tags: {} },
      promotedBy: "test",
      promotedAt: new Date(0).toISOString(),
      rollbackOf: null,
    } as unknown as ReleaseRecord;
    const applied = await describesOf(() => applyRecord(ctx, spec, record, null));
    expect(applied.value).toMatchObject({ kind: "rollback", created: true });
    expect(applied.value.revision.tags[TAG.rollbackOf]).toBe(status.value.production?.arn);
    expect(applied.describes).toBe(2);
  });
});
