import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { promoteRelease } from "../../src/release/promote-release.js";
import { rollbackPipeline } from "../../src/release/rollback.js";
import { runRelease } from "../../src/release/run-release.js";
import { TAG } from "../../src/release/tags.js";
import { makeSpec } from "../support/spec.js";
import { createBareRemote, type BareRemote } from "../gitops/git-remote.js";
import { gitopsEngine, gitopsPipeline } from "../gitops/gitops-harness.js";
import { randomSha, startEngineHarness, type EngineHarness } from "./harness.js";

let h: EngineHarness;
let remote: BareRemote;
beforeAll(async () => {
  [h, remote] = await Promise.all([startEngineHarness(["forward", "g-elsewhere"]), createBareRemote()]);
});
afterAll(async () => {
  await h?.close();
  await remote?.remove();
});

describe("rollback, then forward again", () => {
  it("promote of the rolled-back commit rolls production forward to it once", async () => {
    const spec = makeSpec({ name: "forward", image: { repository: "forward" }, jobDefinition: { name: "forward" }, canary: { jobQueue: "forward" } });
    const a = await runRelease(h.engine().ctx, { spec, commit: randomSha(), branch: "main" });
    const bCommit = randomSha();
    const b = await runRelease(h.engine().ctx, { spec, commit: bCommit, branch: "main" });
    const { ctx } = h.engine();
    expect((await rollbackPipeline(ctx, spec)).to.releaseId).toBe(a.releaseId); // forward:3 runs A

    const forward = await promoteRelease(ctx, spec, bCommit);

    expect(forward).toMatchObject({ alreadyPromoted: false, production: { revision: 4 }, image: b.image });
    const [newest] = await ctx.backend.platform.listJobDefinitionRevisions("forward");
    expect(newest?.tags).toMatchObject({ [TAG.release]: b.releaseId, [TAG.candidate]: b.candidate?.arn });
    expect(newest?.tags[TAG.rollbackOf]).toBeUndefined();
    expect(newest?.body.containerProperties?.image).toBe(b.image?.uri);

    const again = await promoteRelease(h.engine().ctx, spec, bCommit);
    expect(again).toMatchObject({ alreadyPromoted: true, production: { revision: 4 } });
    const rerun = await runRelease(h.engine().ctx, { spec, commit: bCommit, branch: "main" });
    expect(rerun.status).toBe("promoted");
    expect(await ctx.backend.platform.listJobDefinitionRevisions("forward")).toHaveLength(4);

    // And back again: the rollback after rolling forward returns to A.
    expect((await rollbackPipeline(h.engine().ctx, spec)).to).toMatchObject({ releaseId: a.releaseId, revision: 5 });
  });

  it("GitOps: a rollback where the backend has no production revision refuses and writes nothing", async () => {
    const spec = gitopsPipeline("g-elsewhere", remote.url);
    const { ctx } = gitopsEngine(h, await remote.ledger());
    await runRelease(ctx, { spec, commit: randomSha(), branch: "main" });
    await runRelease(ctx, { spec, commit: randomSha(), branch: "main" });
    const commits = (await remote.log()).length;
    // The same pipeline, seen from an account or region where production was never registered.
    const elsewhere = { ...spec, jobDefinition: { ...spec.jobDefinition, name: "g-elsewhere-other-region" } };

    await expect(rollbackPipeline(ctx, elsewhere)).rejects.toMatchObject({
      code: "NOTHING_TO_ROLL_BACK",
      message: expect.stringMatching(/no ACTIVE revision here/),
      hint: expect.stringMatching(/AWS_REGION/),
    });
    expect(await remote.log()).toHaveLength(commits);
  });
});
