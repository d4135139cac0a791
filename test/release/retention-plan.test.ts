import { describe, expect, it } from "vitest";
import type { ReleaseRecord } from "../../src/release/gitops/record.js";
import type { JobDefinitionRevision } from "../../src/release/ports.js";
import { planCandidates, planProduction } from "../../src/release/retention-plan.js";
import { previousLiveRevision } from "../../src/release/rollback.js";
import { CANARY_RETRYING, TAG } from "../../src/release/tags.js";

/** Production history as promotions and rollbacks write it, newest first. */
class Production {
  revisions: JobDefinitionRevision[] = [];

  promote(release: string): JobDefinitionRevision {
    return this.add({ [TAG.release]: release }, `img-${release}`);
  }

  /** What `batchship rollback` registers; undefined when there is nothing to roll back to. */
  rollback(on: readonly JobDefinitionRevision[] = this.revisions): JobDefinitionRevision | undefined {
    const current = on[0];
    const target = current && previousLiveRevision(on, current);
    if (current === undefined || target === undefined) return undefined;
    return this.add({ ...target.tags, [TAG.rollbackOf]: current.arn }, String(target.body.containerProperties?.image));
  }

  private add(tags: Record<string, string>, image: string): JobDefinitionRevision {
    const revision = this.revisions.length + 1;
    const r: JobDefinitionRevision = {
      name: "etl",
      arn: `arn:aws:batch:us-east-1:123456789012:job-definition/etl:${revision}`,
      revision,
      body: { type: "container", platformCapabilities: ["EC2"], containerProperties: { image } },
      tags,
    };
    this.revisions = [r, ...this.revisions];
    return r;
  }
}

function kept(all: readonly JobDefinitionRevision[], keep: number, record: ReleaseRecord | null = null): JobDefinitionRevision[] {
  const arns = new Set(planProduction(all, keep, record).keep.map((k) => k.arn));
  return all.filter((r) => arns.has(r.arn));
}

/** A tiny deterministic generator, so a failure reproduces. */
function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe("production retention", () => {
  it("keeps every revision a kept rollback names", () => {
    const p = new Production();
    p.promote("r1");
    p.promote("r2");
    p.rollback(); // 3: r1 again, undoing r2
    const undone = p.promote("r4");
    const rollback = p.rollback()!; // 5: r1 again, undoing r4
    p.promote("r6");
    const plan = planProduction(p.revisions, 2, null);
    expect(rollback.tags[TAG.rollbackOf]).toBe(undone.arn);
    expect(plan.keep.find((k) => k.arn === undone.arn)?.reasons).toEqual(["rolled-back-by-kept"]);
    expect(plan.deregister.map((r) => r.revision)).toEqual([1, 2, 3]);
  });

  it("keeps the revision that runs the GitOps record, however old", () => {
    const p = new Production();
    const recorded = p.promote("r1");
    for (let i = 2; i <= 6; i++) p.promote(`r${i}`);
    const record = { releaseId: "r1", image: { uri: "img-r1" } } as ReleaseRecord;
    const plan = planProduction(p.revisions, 2, record);
    expect(plan.keep.find((k) => k.arn === recorded.arn)?.reasons).toEqual(["gitops-record"]);
    expect(plan.deregister.map((r) => r.revision)).toEqual([2, 3, 4]);
  });

  it("never changes a rollback target nor brings a rolled-back release back, over random histories", () => {
    const next = random(7);
    for (let history = 0; history < 300; history++) {
      const p = new Production();
      let release = 0;
      const steps = 3 + Math.floor(next() * 25);
      for (let i = 0; i < steps; i++) if (next() < 0.7 || p.rollback() === undefined) p.promote(`r${++release}`);
      const keep = 2 + Math.floor(next() * 4);
      let pruned = kept(p.revisions, keep);
      // Pruned again after each rollback, as retention runs after each: every rollback on what
      // is left goes where it would have gone with the whole history, or finds nothing.
      for (let rollbacks = 0; rollbacks < 6; rollbacks++) {
        const full = p.revisions;
        const expected = previousLiveRevision(full, full[0]!);
        const actual = previousLiveRevision(pruned, pruned[0]!);
        // The first target is always kept; further back, retention may have taken it.
        if (actual === undefined && rollbacks > 0) break;
        expect(actual?.arn, `history ${history}, rollback ${rollbacks}`).toBe(expected?.arn);
        if (actual === undefined) break;
        const added = p.rollback(pruned)!;
        pruned = kept([added, ...pruned], keep);
      }
    }
  });
});

describe("candidate retention", () => {
  const candidate = (revision: number, tags: Record<string, string>): JobDefinitionRevision => ({
    name: "etl-canary",
    arn: `arn:aws:batch:us-east-1:123456789012:job-definition/etl-canary:${revision}`,
    revision,
    body: { type: "container", platformCapabilities: ["EC2"], containerProperties: { image: `img-${revision}` } },
    tags: { [TAG.release]: `r${revision}`, ...tags },
  });

  it("keeps a candidate whose canary an explicit retry is running again, as one with no verdict yet", () => {
    const live = candidate(1, { [TAG.canary]: "passed" });
    const retrying = candidate(2, { [TAG.canary]: CANARY_RETRYING, [TAG.canaryAttempt]: "2" });
    const newest = candidate(3, { [TAG.canary]: "failed" });
    const production: JobDefinitionRevision = { ...live, name: "etl", arn: "arn:aws:batch:us-east-1:123456789012:job-definition/etl:1", tags: { ...live.tags, [TAG.candidate]: live.arn } };

    const plan = planCandidates([newest, retrying, live], [production], 1);
    expect(plan.keep.find((k) => k.arn === retrying.arn)?.reasons).toEqual(["in-flight"]);
    expect(plan.deregister).toEqual([]);
  });

  it("keeps a name's anchor revision, however old and whatever its verdict", () => {
    const candidates = [8, 7, 6, 5, 4, 3, 2, 1].map((n) => candidate(n, { [TAG.canary]: "failed" }));

    const plan = planCandidates(candidates, [], 2);
    expect(plan.keep.map((k) => [k.revision, k.reasons])).toEqual([[8, ["newest"]], [7, ["newest"]], [1, ["anchor"]]]);
    expect(plan.deregister.map((r) => r.revision)).toEqual([2, 3, 4, 5, 6]);
    // Planned again on what is left: nothing more goes, the anchor included.
    expect(planCandidates(candidates.filter((c) => !plan.deregister.includes(c)), [], 2).deregister).toEqual([]);
  });
});
