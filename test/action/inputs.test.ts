import { describe, expect, it } from "vitest";
import { parseActionInputs, type InputName } from "../../src/action/inputs.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const RUNNER = { GITHUB_SHA: SHA, GITHUB_REF: "refs/heads/main", GITHUB_WORKSPACE: "/ws" };

function parse(given: Partial<Record<InputName, string>>, env: Record<string, string> = RUNNER) {
  return parseActionInputs((name) => given[name] ?? "", env);
}

describe("Action inputs", () => {
  it("defaults commit and branch from the runner and resolves the pipeline in the workspace", () => {
    expect(parse({ pipeline: "pipelines/etl.yml" })).toEqual({
      command: "release",
      pipeline: "/ws/pipelines/etl.yml",
      commit: SHA,
      branch: "main",
      wait: true,
      rebuild: false,
    });
    expect(parse({ pipeline: "p.yml", command: "status", "poll-interval": "0.5" })).toEqual({
      command: "status",
      pipeline: "/ws/p.yml",
      pollSeconds: 0.5,
    });
    expect(parse({ pipeline: "p.yml" }, { ...RUNNER, GITHUB_REF: "refs/heads/release/2024-01" })).toMatchObject({ branch: "release/2024-01" });
  });

  it("accepts only true and false for rebuild, naming the input", () => {
    expect(parse({ pipeline: "p.yml", rebuild: "true" })).toMatchObject({ rebuild: true });
    expect(() => parse({ pipeline: "p.yml", rebuild: "yes" })).toThrow(/^Invalid input rebuild: .*expected true or false/);
  });

  it("reads retry for release, the commit for cancel, and one file per line for validate", () => {
    expect(parse({ pipeline: "p.yml", retry: "true" })).toMatchObject({ command: "release", retry: true });
    expect(parse({ pipeline: "p.yml" })).not.toHaveProperty("retry");
    expect(() => parse({ pipeline: "p.yml", retry: "yes" })).toThrow(/^Invalid input retry: .*expected true or false/);
    expect(parse({ pipeline: "p.yml", command: "cancel" })).toEqual({ command: "cancel", pipeline: "/ws/p.yml", commit: SHA, branch: "main" });
    expect(parse({ pipeline: "pipelines/a.yml\n  pipelines/b.yml\n\n", command: "validate" })).toMatchObject({
      command: "validate",
      files: ["/ws/pipelines/a.yml", "/ws/pipelines/b.yml"],
    });
    expect(parse({ pipeline: "p.yml", command: "doctor" })).toEqual({ command: "doctor", pipeline: "/ws/p.yml" });
  });

  it("accepts only true and false for wait, naming the input", () => {
    expect(parse({ pipeline: "p.yml", wait: "false" })).toMatchObject({ wait: false });
    for (const value of ["True", "TRUE", "yes", "1", "false "]) {
      expect(() => parse({ pipeline: "p.yml", wait: value })).toThrow(/^Invalid input wait: .*expected true or false/);
    }
  });

  it("rejects what is not a full sha, a branch or a known command", () => {
    expect(() => parse({ pipeline: "p.yml", commit: SHA.slice(0, 12) })).toThrow(/Invalid input commit/);
    expect(() => parse({ pipeline: "p.yml", commit: "--upload-pack=touch" })).toThrow(/Invalid input commit/);
    expect(() => parse({ pipeline: "p.yml" }, { ...RUNNER, GITHUB_SHA: "$(id)" })).toThrow(/Invalid input commit \(from GITHUB_SHA\)/);
    for (const branch of ["-x", "a..b", "a b", "a\nb", "x~1", "x.lock", "$(touch x)"]) {
      expect(() => parse({ pipeline: "p.yml", branch }), branch).toThrow(/Invalid input branch/);
    }
    expect(() => parse({ pipeline: "p.yml" }, { ...RUNNER, GITHUB_REF: "refs/pull/1/merge" })).toThrow(/set the branch input/);
    expect(parse({ pipeline: "p.yml", branch: "main" }, { ...RUNNER, GITHUB_REF: "refs/tags/v1" })).toMatchObject({ branch: "main" });
    expect(() => parse({ pipeline: "p.yml", command: "Release" })).toThrow(/Invalid input command: "Release": expected one of release, promote/);
    expect(() => parse({ pipeline: "p.yml", "poll-interval": "1e3" })).toThrow(/Invalid input poll-interval/);
    expect(() => parse({})).toThrow(/Invalid input pipeline/);
  });

  it("does not need a commit or a branch to roll back", () => {
    expect(parse({ pipeline: "p.yml", command: "rollback" }, { GITHUB_REF: "refs/tags/v1" })).toMatchObject({ command: "rollback" });
  });
});
