import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isBatchshipRecordCommit } from "../../src/git/record-commit-marker.js";
import { promoteRelease } from "../../src/release/promote-release.js";
import { runRelease } from "../../src/release/run-release.js";
import { pipelineStatus } from "../../src/release/status.js";
import { reconcilePipeline } from "../../src/release/gitops/reconcile.js";
import { TAG } from "../../src/release/tags.js";
import { randomSha, startEngineHarness, type EngineHarness } from "../release/harness.js";
import { createBareRemote, type BareRemote } from "./git-remote.js";
import { gitopsEngine, gitopsPipeline } from "./gitops-harness.js";

const QUEUES = ["g-auto", "g-pr", "g-race", "g-drift"];

let h: EngineHarness;
let remote: BareRemote;
beforeAll(async () => {
  [h, remote] = await Promise.all([startEngineHarness(QUEUES), createBareRemote()]);
});
afterAll(async () => {
  await h?.close();
  await remote?.remove();
});

describe("GitOps promotion", () => {
  it("auto-promotion writes one commit and registers one revision from it, once", async () => {
    const spec = gitopsPipeline("g-auto", remote.url);
    const ledger = await remote.ledger();
    const commit = randomSha();
    const calls = h.mark();

    const result = await runRelease(gitopsEngine(h, ledger).ctx, { spec, commit, branch: "main" });

    expect(result.status, JSON.stringify(result.error)).toBe("promoted");
    const log = await remote.log("releases/g-auto.json");
    expect(log).toHaveLength(1);
    expect(log[0]?.message).toMatch(/^Promote g-auto to g-auto-[0-9a-f]{12}\n/);
    expect(isBatchshipRecordCommit(log[0]?.message ?? "")).toBe(true);
    const record = JSON.parse((await remote.show("releases/g-auto.json")) ?? "{}");
    expect(record).toMatchObject({
      pipeline: "g-auto",
      releaseId: result.releaseId,
      commit,
      image: { uri: result.image?.uri, digest: result.image?.digest },
      candidate: result.candidate,
      canary: { jobId: result.canary?.jobId, summary: { SUCCEEDED: 3 } },
      promotedBy: expect.stringMatching(/automatic/),
      rollbackOf: null,
    });
    const production = await h.engine().ctx.backend.platform.listJobDefinitionRevisions("g-auto");
    expect(production).toHaveLength(1);
    expect(production[0]?.tags).toMatchObject({ [TAG.release]: result.releaseId, [TAG.recordCommit]: log[0]?.sha });
    expect(result.production).toEqual({ arn: production[0]?.arn, revision: 1 });

    const again = await runRelease(gitopsEngine(h, await remote.ledger()).ctx, { spec, commit, branch: "main" });
    expect(again).toMatchObject({ status: "promoted", production: result.production });
    expect(await remote.log("releases/g-auto.json")).toHaveLength(1);
    expect(calls()("RegisterJobDefinition")).toBe(2);
  });

  it("promotes when a person edits the record in a pull request and it is merged", async () => {
    const spec = gitopsPipeline("g-pr", remote.url, "manual");
    const [a, b] = [randomSha(), randomSha()];
    const released = [];
    for (const commit of [a, b]) released.push(await runRelease(h.engine().ctx, { spec, commit, branch: "main" }));
    const [relA, relB] = released;
    expect(relB?.status).toBe("awaiting-promotion");
    const { ctx } = gitopsEngine(h, await remote.ledger());
    await promoteRelease(ctx, spec, a, { by: "alice" });

    const person = await remote.personClone();
    const path = "releases/g-pr.json";
    const record = await person.readJson(path);
    await person.writeJson(path, {
      ...record,
      releaseId: relB?.releaseId,
      commit: b,
      image: relB?.image,
      candidate: relB?.candidate,
      canary: null,
      promotedBy: "alice (pull request)",
    });
    await person.git.add([path]);
    await person.git.commit("Release g-pr at b");
    await person.git.push("origin", "batchship/releases");

    const reconciled = await reconcilePipeline(ctx, spec);

    expect(reconciled).toMatchObject({ action: "registered", kind: "promotion", hold: null, record: { releaseId: relB?.releaseId } });
    const [newest] = await ctx.backend.platform.listJobDefinitionRevisions("g-pr");
    expect(newest?.body.containerProperties?.["image"]).toBe(relB?.image?.uri);
    expect(newest?.tags[TAG.release]).toBe(relB?.releaseId);
    expect(newest?.tags[TAG.rollbackOf]).toBeUndefined();
    expect(relA?.image?.uri).not.toBe(relB?.image?.uri);
    expect((await pipelineStatus(ctx, spec)).drift).toBeNull();
    expect(await reconcilePipeline(ctx, spec)).toMatchObject({ action: "in-sync" });
  });

  it("two promoters of one pipeline at once: both records land, in order, each applied once", async () => {
    const spec = gitopsPipeline("g-race", remote.url, "manual");
    const [a, b] = [randomSha(), randomSha()];
    for (const commit of [a, b]) await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    const [one, two] = [gitopsEngine(h, await remote.ledger()), gitopsEngine(h, await remote.ledger())];
    const calls = h.mark();

    const [pa, pb] = await Promise.all([promoteRelease(one.ctx, spec, a), promoteRelease(two.ctx, spec, b)]);

    const log = await remote.log("releases/g-race.json");
    expect(log).toHaveLength(2);
    expect(log[0]?.parents).toEqual([log[1]?.sha]);
    const released = [pa.releaseId, pb.releaseId];
    const recorded = await Promise.all(log.map(async (c) => JSON.parse((await remote.show("releases/g-race.json", c.sha)) ?? "{}")));
    expect(recorded.map((r) => r.releaseId).sort()).toEqual([...released].sort());
    const production = await one.ctx.backend.platform.listJobDefinitionRevisions("g-race");
    expect(production).toHaveLength(2);
    expect(calls()("RegisterJobDefinition")).toBe(2);
    // Batch ends where git ends.
    expect(production[0]?.tags[TAG.release]).toBe(recorded[0]?.releaseId);
    expect((await pipelineStatus(one.ctx, spec)).drift).toBeNull();
  });

  it("reports drift after a hand-made registration, and reconcile makes Batch match git again", async () => {
    const spec = gitopsPipeline("g-drift", remote.url);
    const { ctx } = gitopsEngine(h, await remote.ledger());
    const result = await runRelease(ctx, { spec, commit: randomSha(), branch: "main" });
    const { platform } = ctx.backend;
    const [promoted] = await platform.listJobDefinitionRevisions("g-drift");
    if (promoted === undefined) throw new Error("not promoted");
    const byHand = { ...promoted.body, containerProperties: { ...promoted.body.containerProperties, image: "busybox:latest" } };
    await platform.registerJobDefinition("g-drift", byHand, {});

    const status = await pipelineStatus(ctx, spec);

    expect(status.drift).toEqual({
      batch: { arn: expect.any(String), revision: 2, image: "busybox:latest", releaseId: null },
      git: { releaseId: result.releaseId, image: result.image?.uri, recordCommit: expect.stringMatching(/^[0-9a-f]{40}$/) },
      reason: expect.stringMatching(/registered outside batchship/),
    });
    const reconciled = await reconcilePipeline(ctx, spec);
    expect(reconciled).toMatchObject({ action: "registered", kind: "reapply", hold: null, production: { revision: 3, image: result.image?.uri } });
    expect((await pipelineStatus(ctx, spec)).drift).toBeNull();
  });
});
