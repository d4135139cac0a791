import { describe, expect, it } from "vitest";
import { formatProblem, parseSpec } from "../../src/spec/index.js";
import { withLine } from "./fixtures.js";

const FILE = "pipelines/p.yml";

/** The problems of VALID with `source.url` set (line 5, after `repository`), as the user reads them. */
function problemsWithUrl(url: string): string[] {
  const result = parseSpec(withLine(4, `  repository: acme/etl\n  url: ${JSON.stringify(url)}`), FILE);
  return result.ok ? [] : result.problems.map(formatProblem);
}

describe("source.url", () => {
  it.each([
    "https://github.com/acme/etl.git",
    "https://git.example.com:8443/acme/etl",
    "ssh://git@github.com/acme/etl.git",
    "ssh://git@git.example.com:2222/acme/etl.git",
    "git@github.com:acme/etl.git",
    "github.com:acme/etl.git",
    "file:///srv/git/etl.git",
  ])("accepts %s", (url) => {
    expect(problemsWithUrl(url)).toEqual([]);
  });

  it.each([
    ["https://x-access-token:ghp_secret@github.com/acme/etl.git", /must not hold credentials/],
    ["https://ghp_secret@github.com/acme/etl.git", /must not hold credentials/],
    ["ssh://git:hunter2@github.com/acme/etl.git", /must not hold a password/],
    ["git:hunter2@github.com:acme/etl.git", /must not hold a password/],
    ["http://github.com/acme/etl.git", /must be an https, ssh or file URL, not http$/],
    ["git://github.com/acme/etl.git", /not git$/],
    ["ext::sh", /must be an https, ssh or file URL/],
    ["ext::sh -c touch% /tmp/pwned", /without spaces/],
    ["/srv/git/etl.git", /must be an https, ssh or file URL/],
    ["../etl", /must be an https, ssh or file URL/],
    ["--upload-pack=touch /tmp/pwned", /leading '-'/],
    ["file://otherhost/srv/git/etl.git", /file URL of this machine/],
  ])("refuses %s, pointing at the line", (url, message) => {
    const problems = problemsWithUrl(url);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^pipelines\/p\.yml:5:\d+: source\.url: /);
    expect(problems[0]).toMatch(message);
  });

  it("never repeats a credential in the problem", () => {
    expect(problemsWithUrl("https://x-access-token:ghp_secret@github.com/acme/etl.git").join("\n")).not.toContain("ghp_secret");
  });
});
