import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitReleaseLedger } from "../../src/git/git-release-ledger.js";
import { ledgerGitEnvironment, redactSecrets } from "../../src/git/git-credentials.js";
import {
  isBatchshipRecordCommit,
  isReleasesBranchPush,
  recordCommitMessage,
  recordPipelineOf,
} from "../../src/git/record-commit-marker.js";
import type { LedgerState } from "../../src/release/gitops/ledger.js";
import type { ReleaseRecord } from "../../src/release/gitops/record.js";
import { closedPort } from "../aws/closed-port.js";
import { createBareRemote, type BareRemote } from "./git-remote.js";

let remote: BareRemote;
beforeAll(async () => {
  remote = await createBareRemote();
});
afterAll(async () => remote?.remove());

function record(pipeline: string, n: number): ReleaseRecord {
  const digest = `sha256:${String(n).repeat(64).slice(0, 64)}`;
  return {
    apiVersion: "batchship/v1",
    kind: "ReleaseRecord",
    pipeline,
    releaseId: `${pipeline}-${String(n).repeat(12).slice(0, 12)}`,
    commit: String(n).repeat(40).slice(0, 40),
    image: { uri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${pipeline}@${digest}`, digest },
    candidate: null,
    canary: null,
    jobDefinition: { name: pipeline, body: { type: "container", platformCapabilities: ["EC2"], containerProperties: {} }, tags: {} },
    promotedBy: "test",
    promotedAt: "2030-01-01T00:00:00.000Z",
    rollbackOf: null,
  };
}

const write = (r: ReleaseRecord) => async (tip: LedgerState) =>
  tip.record?.releaseId === r.releaseId ? null : { record: r, subject: `Promote ${r.pipeline} to ${r.releaseId}` };

describe("git release ledger", () => {
  it("creates the releases branch as an orphan on the first write, and reads it back from another clone", async () => {
    const first = await remote.ledger();
    expect(await first.read("orphan")).toEqual({ record: null, recordCommit: null, hold: null });

    const { commit, state } = await first.update("orphan", write(record("orphan", 1)));

    const [only, ...rest] = await remote.log();
    expect(rest).toEqual([]);
    expect(only).toMatchObject({ sha: commit, parents: [] });
    expect(state).toMatchObject({ record: { releaseId: "orphan-111111111111" }, recordCommit: commit });
    const other = await remote.ledger();
    expect(await other.read("orphan")).toEqual(state);
    expect((await other.update("orphan", write(record("orphan", 1)))).commit).toBeNull();
  });

  it("re-decides on the new tip when another writer pushed first, and loses no record", async () => {
    const [mine, theirs] = [await remote.ledger(), await remote.ledger()];
    const seen: (string | null)[] = [];
    const result = await mine.update("race", async (tip, view) => {
      seen.push(tip.record?.releaseId ?? null);
      // The other machine pushes while this one is deciding: this push will be rejected.
      if (seen.length === 1) await theirs.update("race", write(record("race", 1)));
      return write(record("race", 2))(tip);
    });

    expect(seen).toEqual([null, "race-111111111111"]);
    const log = await remote.log("releases/race.json");
    expect(log.map((c) => c.message.split("\n")[0])).toEqual(["Promote race to race-222222222222", "Promote race to race-111111111111"]);
    expect(log[0]?.parents).toEqual([log[1]?.sha]);
    expect(result.state.record?.releaseId).toBe("race-222222222222");
    expect((await mine.history("race", 10)).map((e) => e.record.releaseId)).toEqual(["race-222222222222", "race-111111111111"]);
  });

  it("keeps records of different pipelines apart, one file each", async () => {
    const ledger = await remote.ledger();
    await Promise.all([ledger.update("one", write(record("one", 3))), ledger.update("two", write(record("two", 4)))]);
    expect((await ledger.read("one")).record?.releaseId).toBe("one-333333333333");
    expect((await ledger.read("two")).record?.releaseId).toBe("two-444444444444");
  });

  it("reports an unreadable hand-edited record with its place and a hint", async () => {
    const ledger = await remote.ledger();
    await ledger.update("typo", write(record("typo", 5)));
    const person = await remote.personClone();
    const json = await person.readJson("releases/typo.json");
    await person.writeJson("releases/typo.json", { ...json, imgae: json.image });
    await person.git.add(["releases/typo.json"]);
    await person.git.commit("typo");
    await person.git.push("origin", "batchship/releases");
    await expect(ledger.read("typo")).rejects.toMatchObject({ code: "GIT", message: expect.stringMatching(/releases\/typo\.json.*imgae/) });
  });
});

describe("git credentials", () => {
  it("pass a token to git as an HTTP header through the environment, never in the URL or argv", () => {
    const { env, allow } = ledgerGitEnvironment({ PATH: "/bin", GIT_DIR: "/elsewhere", EDITOR: "vim" }, { token: "s3cret" });
    expect(env).toMatchObject({
      PATH: "/bin",
      GIT_TERMINAL_PROMPT: "0",
      GIT_CONFIG_KEY_0: "http.extraHeader",
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from("x-access-token:s3cret").toString("base64")}`,
    });
    expect(env.GIT_DIR).toBeUndefined();
    expect(env.EDITOR).toBeUndefined();
    expect(allow).toContain("GIT_CONFIG_VALUE_0");
  });

  it("never appear in an error, even when git fails talking to the remote", async () => {
    const token = "ghp_notARealTokenButSecret";
    const ledger = createGitReleaseLedger({
      repository: `http://127.0.0.1:${await closedPort()}/acme/releases.git`,
      branch: "batchship/releases",
      path: "releases/{pipeline}.json",
      cacheDir: `${remote.dir}-cache-creds`,
      credentials: { token },
    });
    const error = await ledger.read("etl").catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ code: "ENVIRONMENT", message: expect.stringMatching(/^Could not fetch the releases branch/) });
    expect(JSON.stringify(error) + String(error)).not.toContain(token);
    expect(redactSecrets(`https://bob:${token}@github.com/x ${token}`, { token })).toBe("https://***@github.com/x ***");
  });
});

describe("loop prevention", () => {
  it("recognises commits batchship made, by the trailer of their last paragraph", async () => {
    const message = recordCommitMessage("etl", "Promote etl to etl-abc", "Image x@sha256:…");
    expect(message).toBe("Promote etl to etl-abc\n\nImage x@sha256:…\n\nBatchship-Record: etl\n");
    expect(isBatchshipRecordCommit(message)).toBe(true);
    expect(recordPipelineOf(message)).toBe("etl");
    expect(isBatchshipRecordCommit("Fix the Batchship-Record: parser\n\nmentions Batchship-Record: etl inline")).toBe(false);
    expect(isBatchshipRecordCommit("Batchship-Record: etl")).toBe(false);
    // Real commits written by the ledger carry it; a person's commit does not.
    const ledgerCommits = await remote.log();
    expect(ledgerCommits.length).toBeGreaterThan(0);
    for (const c of ledgerCommits.filter((c) => c.message !== "typo")) expect(isBatchshipRecordCommit(c.message)).toBe(true);
    expect(isBatchshipRecordCommit(ledgerCommits.find((c) => c.message === "typo")?.message ?? "x")).toBe(false);
  });

  it("tells a push to the releases branch and a batchship commit apart from a release", () => {
    expect(isReleasesBranchPush("refs/heads/batchship/releases")).toBe(true);
    expect(isReleasesBranchPush("refs/heads/main")).toBe(false);
    expect(isReleasesBranchPush("refs/heads/deploy", ["deploy"])).toBe(true);
    expect(isBatchshipRecordCommit(recordCommitMessage("etl", "Promote etl"))).toBe(true);
    expect(isBatchshipRecordCommit("Add a feature\n\nBatchship-Record is mentioned here, not as a trailer")).toBe(false);
  });
});
