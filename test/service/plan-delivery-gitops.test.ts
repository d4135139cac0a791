import { describe, expect, it } from "vitest";
import { recordCommitMessage } from "../../src/git/record-commit-marker.js";
import { repositoryKey } from "../../src/service/gitops-routing.js";
import type { PipelineSet } from "../../src/service/pipeline-set.js";
import { planDelivery } from "../../src/service/plan-delivery.js";
import { makeSpec } from "../support/spec.js";
import { pushPayload } from "./deliveries.js";

const RECORDS = { branch: "batchship/releases", path: "releases/{pipeline}.json" };
const CONFIG_ORIGIN = "https://github.com/acme/deploy.git";
const set = (...specs: ReturnType<typeof makeSpec>[]): PipelineSet => ({ specs: new Map(specs.map((s) => [s.name, s])), problems: [], kept: [], files: new Map(), loadedAt: 1 });
const pipelines = set(
  makeSpec({ name: "etl", source: { repository: "acme/etl", branches: ["main"] }, promotion: { mode: "auto", gitops: RECORDS } }),
  makeSpec({ name: "api", source: { repository: "acme/api", branches: ["main"] }, promotion: { mode: "auto", gitops: { ...RECORDS, repository: "git@github.com:acme/records.git", branch: "records" } } }),
  makeSpec({ name: "plain", source: { repository: "acme/etl", branches: ["main"] } }),
);
const context = { pipelines, configRepository: undefined, githubUrl: "https://github.com", configOrigin: CONFIG_ORIGIN };
const SHA = "c".repeat(40);

function push(repository: string, branch: string, message: string, cloneUrl?: string) {
  const payload = pushPayload(repository, SHA, branch);
  payload.head_commit.message = message;
  payload.commits = [{ ...payload.head_commit }];
  payload.repository.clone_url = cloneUrl ?? `https://github.com/${repository}.git`;
  return payload;
}

describe("delivery planning: GitOps loop prevention", () => {
  it("starts no release for a head commit carrying batchship's record marker", () => {
    const plan = planDelivery("push", push("acme/etl", "main", recordCommitMessage("etl", "Promote etl to etl-abc")), context);
    expect(plan).toMatchObject({ outcome: "ignored", httpStatus: 204, releases: [], reconciles: [], reason: "head commit is a batchship record commit" });
    // The word alone, outside the trailer block, is a person's commit: released as usual.
    const mention = planDelivery("push", push("acme/etl", "main", "Explain the Batchship-Record: trailer"), context);
    expect(mention.releases.map((r) => r.pipeline)).toEqual(["etl", "plain"]);
  });

  it("reconciles, never releases, a push to a releases branch of a repository holding records", () => {
    const human = planDelivery("push", push("acme/deploy", "batchship/releases", "Revert \"Promote etl\""), context);
    expect(human).toMatchObject({ outcome: "accepted", httpStatus: 202, releases: [] });
    expect(human.reconciles.map((r) => r.pipeline)).toEqual(["etl"]);

    const ssh = planDelivery("push", push("acme/records", "records", "hand edit"), context);
    expect(ssh.reconciles.map((r) => r.pipeline)).toEqual(["api"]);

    // A releases-branch push elsewhere, or to another branch name, reconciles nothing and releases nothing.
    const elsewhere = planDelivery("push", push("acme/etl", "batchship/releases", "x"), context);
    expect(elsewhere).toMatchObject({ outcome: "ignored", httpStatus: 204, releases: [], reconciles: [] });
    const wrongBranch = planDelivery("push", push("acme/deploy", "records", "x"), context);
    expect(wrongBranch).toMatchObject({ outcome: "ignored", reconciles: [] });
  });

  it("narrows the echo of batchship's own record commit to the pipeline it names", () => {
    const two = set(...pipelines.specs.values(), makeSpec({ name: "etl2", source: { repository: "acme/etl2", branches: ["main"] }, promotion: { mode: "auto", gitops: RECORDS } }));
    const echo = planDelivery("push", push("acme/deploy", "batchship/releases", recordCommitMessage("etl2", "Promote etl2")), { ...context, pipelines: two });
    expect(echo.reconciles.map((r) => r.pipeline)).toEqual(["etl2"]);
    const byHand = planDelivery("push", push("acme/deploy", "batchship/releases", "Edit records"), { ...context, pipelines: two });
    expect(byHand.reconciles.map((r) => r.pipeline)).toEqual(["etl", "etl2"]);
  });

  it("spells one repository one way", () => {
    const key = repositoryKey("https://github.com/acme/deploy.git");
    for (const other of ["git@github.com:acme/deploy.git", "https://x-access-token@github.com/Acme/Deploy/", "ssh://git@github.com/acme/deploy"]) {
      expect(repositoryKey(other)).toBe(key);
    }
    expect(repositoryKey("file:///tmp/r/deploy.git")).toBe(repositoryKey("file:///tmp/r/deploy"));
    expect(repositoryKey("file:///tmp/r/deploy")).not.toBe(repositoryKey("file:///tmp/other/deploy"));
  });
});
