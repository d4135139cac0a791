import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCommitStatusClient, linkable, type PostCommitStatus } from "../../src/github/commit-status-client.js";
import { startGitHubStandIn, type GitHubStandIn } from "../service/github-stand-in.js";

const SHA = "a".repeat(40);
let github: GitHubStandIn;
let post: PostCommitStatus;
beforeAll(async () => {
  github = await startGitHubStandIn();
  post = createCommitStatusClient({ token: "t0ken", baseUrl: github.url, timeoutMs: 5_000, userAgent: "batchship-test" });
});
afterAll(async () => github?.close());

const status = (targetUrl: string) => ({
  repository: "acme/app",
  sha: SHA,
  state: "pending" as const,
  context: `batchship/${targetUrl.length}`,
  description: "queued",
  targetUrl,
});

describe("a commit status's target_url", () => {
  it("is sent when it is a public address", async () => {
    await post(status("https://batchship.example.com/api/releases/etl-abc"));
    expect(github.statuses.at(-1)?.target_url).toBe("https://batchship.example.com/api/releases/etl-abc");
  });

  it("is left out when it would point at this machine, or when there is none", async () => {
    for (const url of ["http://localhost:8080/api/releases/x", "http://127.0.0.1:9/x", "http://[::1]:8080/x", ""]) {
      await post(status(url));
      expect(github.statuses.at(-1)).toMatchObject({ context: `batchship/${url.length}`, state: "pending" });
      expect(github.statuses.at(-1)?.target_url, url).toBeUndefined();
    }
  });

  it("is a link only over http(s)", () => {
    expect(linkable("javascript:alert(1)")).toBe(false);
    expect(linkable("http://ci.internal.example:8080/api")).toBe(true);
    expect(linkable("https://app.localhost/x")).toBe(false);
  });
});
