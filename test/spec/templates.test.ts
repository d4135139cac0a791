import { describe, expect, it } from "vitest";
import { BatchshipError } from "../../src/errors.js";
import { branchMatches, renderTags, sanitizeBranch } from "../../src/spec/index.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";

describe("renderTags", () => {
  it("expands {sha}, {shortSha} and {branch}", () => {
    expect(renderTags(["{sha}", "{branch}-{shortSha}", "build-{shortSha}"], { sha: SHA, branch: "main" })).toEqual([
      SHA,
      "main-0123456",
      "build-0123456",
    ]);
  });

  it("turns a branch into a valid tag component", () => {
    expect(sanitizeBranch("feature/JIRA-12_x.y")).toBe("feature-JIRA-12_x.y");
    expect(sanitizeBranch("-.odd branch!")).toBe("odd-branch-");
    expect(renderTags(["{branch}"], { sha: SHA, branch: "release/2024.01" })).toEqual(["release-2024.01"]);
  });

  it("never starts a tag with '.' or '-'", () => {
    expect(renderTags(["{branch}-{shortSha}"], { sha: SHA, branch: "ü" })).toEqual(["0123456"]);
  });

  it("caps a tag at 128 characters", () => {
    const [tag] = renderTags(["{branch}-{sha}"], { sha: SHA, branch: "b".repeat(200) });
    expect(tag).toHaveLength(128);
    expect(tag).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/);
  });

  it("lists a tag once when two templates render the same", () => {
    expect(renderTags(["{sha}", "{sha}"], { sha: SHA, branch: "main" })).toEqual([SHA]);
  });

  it("rejects a short sha, which would tag a build under the wrong name", () => {
    expect(() => renderTags(["{sha}"], { sha: "0123456", branch: "main" })).toThrow(BatchshipError);
  });

  it("rejects a template that renders to nothing", () => {
    expect(() => renderTags(["{branch}"], { sha: SHA, branch: "ü" })).toThrow(/leaves no valid tag characters/);
  });
});

describe("branchMatches", () => {
  it("matches exact names and globs", () => {
    expect(branchMatches(["main"], "main")).toBe(true);
    expect(branchMatches(["main"], "main2")).toBe(false);
    expect(branchMatches(["main", "release/*"], "release/1.2")).toBe(true);
    expect(branchMatches(["release/*"], "release/1.2/hotfix")).toBe(false);
    expect(branchMatches(["release/**"], "release/1.2/hotfix")).toBe(true);
    expect(branchMatches(["release/*"], "releases/1.2")).toBe(false);
  });

  it("lets a '!' pattern exclude", () => {
    expect(branchMatches(["release/*", "!release/experimental"], "release/1.0")).toBe(true);
    expect(branchMatches(["release/*", "!release/experimental"], "release/experimental")).toBe(false);
  });

  it("matches nothing for no patterns or only exclusions", () => {
    expect(branchMatches([], "main")).toBe(false);
    expect(branchMatches(["!main"], "dev")).toBe(false);
  });
});
