import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isBatchshipRecordCommit } from "../../src/git/record-commit-marker.js";
import { unholdPipeline } from "../../src/release/gitops/hold.js";
import { reconcilePipeline } from "../../src/release/gitops/reconcile.js";
import { promoteRelease } from "../../src/release/promote-release.js";
import { rollbackPipeline } from "../../src/release/rollback.js";
import { runRelease } from "../../src/release/run-release.js";
import { pipelineStatus } from "../../src/release/status.js";
import { TAG } from "../../src/release/tags.js";
import { randomSha, startEngineHarness, type EngineHarness } from "../release/harness.js";
import { createBareRemote, RELEASES, type BareRemote } from "./git-remote.js";
import { gitopsEngine, gitopsPipeline } from "./gitops-harness.js";

let h: EngineHarness;
let remote: BareRemote;
beforeAll(async () => {
  [h, remote] = await Promise.all([startEngineHarness(["g-revert", "g-hold"]), createBareRemote()]);
});
afterAll(async () => {
  await h?.close();
  await remote?.remove();
});

describe("GitOps rollback", () => {
  it("`git revert` of a promotion commit rolls production back and holds automatic promotion", async () => {
    const spec = gitopsPipeline("g-revert", remote.url);
    const { ctx } = gitopsEngine(h, await remote.ledger());
    const a = await runRelease(ctx, { spec, commit: randomSha(), branch: "main" });
    const b = await runRelease(ctx, { spec, commit: randomSha(), branch: "main" });
    expect([a.status, b.status]).toEqual(["promoted", "promoted"]);
    const path = "releases/g-revert.json";
    const [promotionOfB] = await remote.log(path);

    const person = await remote.personClone();
    await person.git.raw(["revert", "--no-edit", promotionOfB?.sha ?? ""]);
    await person.git.push("origin", RELEASES);
    const reverted = (await remote.log())[0];
    expect(isBatchshipRecordCommit(reverted?.message ?? "")).toBe(false);

    const reconciled = await reconcilePipeline(ctx, spec, "the service");

    expect(reconciled).toMatchObject({
      action: "registered",
      kind: "rollback",
      record: { releaseId: a.releaseId, recordCommit: reverted?.sha },
      production: { revision: 3, image: a.image?.uri },
      hold: { by: "the service", reason: expect.stringMatching(new RegExp(`back to ${a.releaseId}`)) },
    });
    const [newest] = await ctx.backend.platform.listJobDefinitionRevisions("g-revert");
    expect(newest?.tags).toMatchObject({ [TAG.release]: a.releaseId, [TAG.rollbackOf]: b.production?.arn, [TAG.recordCommit]: reverted?.sha });
    const [holdCommit] = await remote.log("releases/g-revert.hold.json");
    expect(isBatchshipRecordCommit(holdCommit?.message ?? "")).toBe(true);
    expect(await reconcilePipeline(ctx, spec)).toMatchObject({ action: "in-sync", kind: null });
    expect(await remote.log()).toHaveLength(4);

    // The held pipeline does not roll forward by itself.
    const c = await runRelease(ctx, { spec, commit: randomSha(), branch: "main" });
    expect(c).toMatchObject({ status: "awaiting-promotion", production: null, hold: { by: "the service" } });
  });

  it("`batchship rollback` is a commit with a hold; the next auto-promotion waits until unhold", async () => {
    const spec = gitopsPipeline("g-hold", remote.url);
    const { ctx } = gitopsEngine(h, await remote.ledger());
    const [a, b] = [await runRelease(ctx, { spec, commit: randomSha(), branch: "main" }), await runRelease(ctx, { spec, commit: randomSha(), branch: "main" })];
    const calls = h.mark();

    const rolledBack = await rollbackPipeline(ctx, spec, { by: "alice" });

    expect(rolledBack).toMatchObject({ from: { revision: 2, releaseId: b.releaseId }, to: { revision: 3, releaseId: a.releaseId, image: a.image?.uri } });
    const [rollbackCommit] = await remote.log("releases/g-hold.json");
    expect(rollbackCommit?.message).toMatch(new RegExp(`^Roll back g-hold to ${a.releaseId}`));
    expect(JSON.parse((await remote.show("releases/g-hold.json")) ?? "{}")).toMatchObject({ releaseId: a.releaseId, rollbackOf: b.releaseId, promotedBy: "alice" });
    expect(JSON.parse((await remote.show("releases/g-hold.hold.json")) ?? "{}")).toMatchObject({ kind: "PromotionHold", by: "alice" });
    expect((await remote.log("releases/g-hold.hold.json"))[0]?.sha).toBe(rollbackCommit?.sha);

    const c = randomSha();
    const held = await runRelease(ctx, { spec, commit: c, branch: "main" });
    expect(held).toMatchObject({ status: "awaiting-promotion", production: null, hold: { by: "alice", reason: expect.stringMatching(/rolled back/) } });
    const status = await pipelineStatus(ctx, spec);
    expect(status).toMatchObject({ production: { revision: 3, releaseId: a.releaseId }, ledger: { hold: { by: "alice" } }, drift: null });
    expect(calls()("RegisterJobDefinition")).toBe(2); // the rollback and C's candidate, nothing in production

    const unheld = await unholdPipeline(ctx, spec, "bob");
    expect(unheld.lifted).toMatchObject({ by: "alice" });
    expect(await remote.show("releases/g-hold.hold.json")).toBeUndefined();
    expect((await unholdPipeline(ctx, spec, "bob")).lifted).toBeNull();

    const resumed = await runRelease(ctx, { spec, commit: c, branch: "main" });
    expect(resumed).toMatchObject({ status: "promoted", production: { revision: 4 } });

    // A person's promotion lifts a hold too.
    await rollbackPipeline(ctx, spec, { by: "alice" });
    const d = randomSha();
    expect((await runRelease(ctx, { spec, commit: d, branch: "main" })).status).toBe("awaiting-promotion");
    const promoted = await promoteRelease(ctx, spec, d, { by: "carol" });
    expect(promoted.alreadyPromoted).toBe(false);
    expect(await remote.show("releases/g-hold.hold.json")).toBeUndefined();
    expect(JSON.parse((await remote.show("releases/g-hold.json")) ?? "{}")).toMatchObject({ releaseId: promoted.releaseId, promotedBy: "carol" });
    expect((await runRelease(ctx, { spec, commit: randomSha(), branch: "main" })).status).toBe("promoted");
  });
});
