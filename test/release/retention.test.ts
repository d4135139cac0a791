import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEngineContext } from "../../src/release/context.js";
import type { JobDefinitionBody, JobDefinitionRevision, JobPlatform } from "../../src/release/ports.js";
import { applyRetention } from "../../src/release/retention.js";
import { runRelease } from "../../src/release/run-release.js";
import { previousLiveRevision, rollbackPipeline } from "../../src/release/rollback.js";
import { pipelineStatus } from "../../src/release/status.js";
import { TAG } from "../../src/release/tags.js";
import { makeSpec } from "../support/spec.js";
import { randomSha, startEngineHarness, type EngineHarness } from "./harness.js";

let harness: EngineHarness;
beforeAll(async () => {
  harness = await startEngineHarness(["etl-canary"]);
});
afterAll(async () => {
  await harness?.close();
});

function body(release: string): JobDefinitionBody {
  const image = `123456789012.dkr.ecr.us-east-1.amazonaws.com/etl@sha256:${release.padEnd(64, "0").slice(0, 64)}`;
  return { type: "container", platformCapabilities: ["EC2"], containerProperties: { image, vcpus: 1, memory: 512 } };
}

/** A production and candidate history written the way releases and rollbacks write it. */
class History {
  readonly production = new Map<string, JobDefinitionRevision>();
  readonly candidates = new Map<string, JobDefinitionRevision>();
  constructor(
    private readonly platform: JobPlatform,
    readonly name: string,
  ) {}

  async candidate(release: string, canary?: "passed" | "failed"): Promise<JobDefinitionRevision> {
    const tags: Record<string, string> = { [TAG.release]: hex(release), ...(canary ? { [TAG.canary]: canary } : {}) };
    const revision = await this.register(`${this.name}-canary`, body(hex(release)), tags);
    this.candidates.set(release, revision);
    return revision;
  }

  async promote(release: string): Promise<JobDefinitionRevision> {
    const candidate = this.candidates.get(release) ?? (await this.candidate(release, "passed"));
    const revision = await this.register(this.name, candidate.body, { ...candidate.tags, [TAG.candidate]: candidate.arn });
    this.production.set(release, revision);
    return revision;
  }

  private async register(name: string, b: JobDefinitionBody, tags: Record<string, string>): Promise<JobDefinitionRevision> {
    return { name, ...(await this.platform.registerJobDefinition(name, b, tags)), body: b, tags };
  }
}

/** Release ids that double as an image digest prefix. */
function hex(release: string): string {
  return Buffer.from(release).toString("hex");
}

async function active(platform: JobPlatform, name: string): Promise<number[]> {
  return (await platform.listJobDefinitionRevisions(name)).map((r) => r.revision).sort((a, b) => a - b);
}

describe("retention", () => {
  it("keeps the newest revisions, production, its rollback target and what rollbacks name; rolled-back releases never return", async () => {
    const { ctx } = harness.engine();
    const name = "ret-rules";
    const spec = makeSpec({ name, jobDefinition: { name }, retention: { candidates: 2, production: 2 } });
    const h = new History(ctx.backend.platform, name);
    const p1 = await h.promote("r1");
    await h.promote("r2");
    await h.promote("r3");
    await rollbackPipeline(ctx, spec); // to r2, undoing r3
    await h.promote("r5");
    await rollbackPipeline(ctx, spec); // to r2 again, undoing r5
    const before = await ctx.backend.platform.listJobDefinitionRevisions(name);
    const target = previousLiveRevision(before, before[0]!);
    expect(target?.arn).toBe(p1.arn);

    const result = await applyRetention(ctx, spec);

    const after = await ctx.backend.platform.listJobDefinitionRevisions(name);
    // Newest two (the rollback to r2, r5), r2's first promotion (re-running r2 finds it
    // promoted), and r1: the rollback target, far outside the newest two.
    expect(after.map((r) => r.revision)).toEqual([6, 5, 2, 1]);
    expect(result.production.deregistered.map((r) => r.revision)).toEqual([3, 4]);
    expect(result.production.kept.find((k) => k.revision === 1)?.reasons).toContain("rollback-target");
    expect(previousLiveRevision(after, after[0]!)?.arn).toBe(target?.arn);
    // A second run has nothing to do.
    const again = await applyRetention(ctx, spec);
    expect([...again.production.deregistered, ...again.candidates.deregistered]).toEqual([]);

    // Rolling back walks to r1; then again there is nothing left — r3 and r5 (rolled back) and
    // r2 (live before) never come back.
    const first = await rollbackPipeline(ctx, spec);
    expect(first.to.releaseId).toBe(hex("r1"));
    await expect(rollbackPipeline(ctx, spec)).rejects.toMatchObject({ code: "NOTHING_TO_ROLL_BACK" });
  });

  it("keeps the candidate production came from, candidates awaiting promotion and those in flight", async () => {
    const { ctx } = harness.engine();
    const name = "ret-candidates";
    const spec = makeSpec({ name, jobDefinition: { name }, promotion: { mode: "manual" }, retention: { candidates: 1, production: 2 } });
    const h = new History(ctx.backend.platform, name);
    await h.candidate("old", "failed"); // 1: overtaken, but the name's anchor: stays
    await h.promote("live"); // 2: production's candidate, stays
    await h.candidate("waiting", "passed"); // 3: awaiting promotion, stays
    await h.candidate("broken", "failed"); // 4: failed, goes
    await h.candidate("running"); // 5: no verdict yet, stays
    await h.candidate("newest", "failed"); // 6: newest, stays

    const dry = await applyRetention(ctx, spec, { dryRun: true });
    expect(dry.candidates.deregistered.map((r) => r.revision)).toEqual([4]);
    expect(dry.candidates.kept.find((k) => k.revision === 1)?.reasons).toEqual(["anchor"]);
    expect(await active(ctx.backend.platform, `${name}-canary`)).toEqual([1, 2, 3, 4, 5, 6]);

    await applyRetention(ctx, spec);
    expect(await active(ctx.backend.platform, `${name}-canary`)).toEqual([1, 2, 3, 5, 6]);
    const status = await pipelineStatus(ctx, spec);
    expect(status.awaitingPromotion.map((c) => c.revision)).toEqual([3]);
  });

  it("survives a crash midway: what is left is consistent, and the next run finishes the job", async () => {
    const name = "ret-crash";
    const spec = makeSpec({ name, jobDefinition: { name }, retention: { candidates: 2, production: 2 } });
    const { ctx } = harness.engine();
    const h = new History(ctx.backend.platform, name);
    for (let i = 1; i <= 8; i++) await h.promote(`c${i}`);

    // The process dies after two deregistrations (a crash, not an AWS error: nothing retries it).
    let calls = 0;
    const crashing = createEngineContext(
      {
        ...ctx.backend,
        platform: {
          ...ctx.backend.platform,
          async deregisterJobDefinition(arn) {
            if (++calls > 2) throw new Error("process killed");
            await ctx.backend.platform.deregisterJobDefinition(arn);
          },
        },
      },
      { clock: ctx.clock, sleep: ctx.sleep, polling: ctx.polling },
    );
    await expect(applyRetention(crashing, spec)).rejects.toThrow("process killed");
    // Candidates go first, oldest first: the two oldest candidates after the anchor went; everything else is there.
    expect(await active(ctx.backend.platform, `${name}-canary`)).toEqual([1, 4, 5, 6, 7, 8]);
    expect(await active(ctx.backend.platform, name)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    // The next run (a lost answer on its first deregistration included) finishes.
    harness.emulator.faults.failAfterForwarding("DeregisterJobDefinition", 1);
    const finished = await applyRetention(ctx, spec);
    expect(finished.candidates.deregistered.map((r) => r.revision)).toEqual([4, 5, 6]);
    expect(await active(ctx.backend.platform, `${name}-canary`)).toEqual([1, 7, 8]);
    expect(await active(ctx.backend.platform, name)).toEqual([7, 8]);
    const rerun = await applyRetention(ctx, spec);
    expect([...rerun.candidates.deregistered, ...rerun.production.deregistered]).toEqual([]);
  });

  it("runs at the end of a release; when it fails the release still succeeds, with a warning", async () => {
    const name = "ret-release";
    const spec = makeSpec({ name, image: { repository: name }, jobDefinition: { name }, retention: { candidates: 1, production: 2 } });
    const { ctx, events } = harness.engine();
    const h = new History(ctx.backend.platform, name);
    for (let i = 1; i <= 3; i++) await h.promote(`old${i}`);

    const released = await runRelease(ctx, { spec, commit: randomSha(), branch: "main" });
    expect(released.status).toBe("promoted");
    expect(await active(ctx.backend.platform, `${name}-canary`)).toEqual([1, 4]);
    expect(await active(ctx.backend.platform, name)).toEqual([3, 4]);

    // Batch refuses every deregistration (throttled past every retry): the release is unharmed.
    harness.emulator.faults.throttle("DeregisterJobDefinition", 1000);
    try {
      const next = await runRelease(ctx, { spec, commit: randomSha(), branch: "main" });
      expect(next.status).toBe("promoted");
      expect(events).toContainEqual({ type: "warning", message: expect.stringMatching(/^retention of ret-release stopped; .*deregister job definition/) });
    } finally {
      harness.emulator.faults.clear();
    }
    expect(await active(ctx.backend.platform, `${name}-canary`)).toEqual([1, 4, 5]);
    expect(await active(ctx.backend.platform, name)).toEqual([3, 4, 5]);
  });
});
