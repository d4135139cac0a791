import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRelease } from "../../src/release/run-release.js";
import { makeSpec } from "../support/spec.js";
import { randomSha, startEngineHarness, type EngineHarness } from "./harness.js";

let h: EngineHarness;
beforeAll(async () => {
  h = await startEngineHarness(["storm", "lost"]);
});
afterAll(async () => h?.close());

const spec = (name: string) =>
  makeSpec({ name, image: { repository: name }, jobDefinition: { name }, canary: { jobQueue: name } });

describe("release under AWS faults", () => {
  it("survives a throttling storm with no duplicate side effect", async () => {
    for (const op of ["StartBuild", "DescribeImages", "RegisterJobDefinition", "SubmitJob", "DescribeJobs", "TagResource"]) {
      h.emulator.faults.throttle(op, 2, "throttling");
    }
    h.emulator.faults.throttle("*", 3, "429");
    const calls = h.mark();
    const { ctx } = h.engine();

    const result = await runRelease(ctx, { spec: spec("storm"), commit: randomSha(), branch: "main" });

    expect(result.error).toBeUndefined();
    expect(result.status).toBe("promoted");
    expect(await ctx.backend.platform.listJobDefinitionRevisions("storm-canary")).toHaveLength(1);
    expect(await ctx.backend.platform.listJobDefinitionRevisions("storm")).toHaveLength(1);
    expect(await ctx.backend.platform.findJobs("storm", `batchship-${result.releaseId}`)).toHaveLength(1);
    expect(calls()("StartBuild")).toBe(1);
  });

  it("never registers or submits twice when a response is lost after AWS acted", async () => {
    h.emulator.faults.failAfterForwarding("RegisterJobDefinition", 2);
    h.emulator.faults.failAfterForwarding("SubmitJob", 1);
    const { ctx } = h.engine();

    const result = await runRelease(ctx, { spec: spec("lost"), commit: randomSha(), branch: "main" });

    expect(result.status).toBe("promoted");
    expect(await ctx.backend.platform.listJobDefinitionRevisions("lost-canary")).toHaveLength(1);
    expect(await ctx.backend.platform.listJobDefinitionRevisions("lost")).toHaveLength(1);
    expect(await ctx.backend.platform.findJobs("lost", `batchship-${result.releaseId}`)).toHaveLength(1);
  });
});
