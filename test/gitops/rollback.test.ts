import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isBatchshipRecordCommit } from "../../src/git/record-commit-marker.js";
import { checkoutHistory } from "../../src/git/source-history.js";
import { unholdPipeline } from "../../src/release/gitops/hold.js";
import { reconcilePipeline } from "../../src/release/gitops/reconcile.js";
import { promoteRelease } from "../../src/release/promote-release.js";
import { rollbackPipeline } from "../../src/release/rollback.js";
import { runRelease } from "../../src/release/run-release.js";
import { pipelineStatus } from "../../src/release/status.js";
import { TAG } from "../../src/release/tags.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { randomSha, startEngineHarness, type EngineHarness } from "../release/harness.js";
import { createBareRemote, RELEASES, type BareRemote } from "./git-remote.js";
import { gitopsEngine, gitopsPipeline } from "./gitops-harness.js";

let h: EngineHarness;
let remote: BareRemote;
let app: TestRepo;
beforeAll(async () => {
  [h, remote, app] = await Promise.all([startEngineHarness(["g-revert", "g-hold", "g-pruned"]), createBareRemote(), createTestRepo()]);
});
afterAll(async () => {
  await h?.close();
  await remote?.remove();
  await app?.remove();
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

  it("a record going back to a release whose revisions retention deregistered is still a rollback, and holds", async () => {
    const spec = { ...gitopsPipeline("g-pruned", remote.url), retention: { candidates: 1, production: 2 } };
    const { ctx: bare } = gitopsEngine(h, await remote.ledger());
    const ctx = { ...bare, history: checkoutHistory(app.dir) };
    const released = [];
    for (const label of ["a", "b", "c"]) {
      const commit = await app.commit({ "g-pruned.txt": label });
      released.push(await runRelease(ctx, { spec, commit, branch: "main" }));
    }
    const [a, b, c] = released;
    expect(released.map((r) => r.status)).toEqual(["promoted", "promoted", "promoted"]);
    // Retention after C kept production's two newest revisions: A's promotion is gone.
    expect((await ctx.backend.platform.listJobDefinitionRevisions("g-pruned")).map((r) => r.tags[TAG.release])).toEqual([c?.releaseId, b?.releaseId]);

    // A pull request takes the record back to A: both promotions after it are reverted.
    const [promotionOfC, promotionOfB] = await remote.log("releases/g-pruned.json");
    const person = await remote.personClone();
    await person.git.raw(["revert", "--no-edit", promotionOfC?.sha ?? "", promotionOfB?.sha ?? ""]);
    await person.git.push("origin", RELEASES);

    const reconciled = await reconcilePipeline(ctx, spec, "the service");
    expect(reconciled).toMatchObject({ action: "registered", kind: "rollback", record: { releaseId: a?.releaseId }, hold: { by: "the service" } });
    const [newest] = await ctx.backend.platform.listJobDefinitionRevisions("g-pruned");
    // Held, the next passing canary waits for a person instead of undoing the pull request.
    expect(newest?.tags).toMatchObject({ [TAG.release]: a?.releaseId, [TAG.rollbackOf]: c?.production?.arn });
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
