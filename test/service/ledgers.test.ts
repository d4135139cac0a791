import { simpleGit } from "simple-git";
import { afterEach, describe, expect, it } from "vitest";
import { repositoryKey } from "../../src/service/gitops-routing.js";
import { configOriginOf, readConfigOrigin, withoutCredentials } from "../../src/service/ledgers.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";

let repo: TestRepo | undefined;
afterEach(() => repo?.remove());

describe("the config checkout's origin", () => {
  it("is read without the user and token a checkout was cloned with", async () => {
    repo = await createTestRepo();
    await simpleGit(repo.dir).addRemote("origin", "https://x-access-token:ghp_SECRET0123456789@github.com/acme/deploy.git");
    const origin = await configOriginOf(repo.dir);
    expect(origin).toBe("https://github.com/acme/deploy.git");
    // Still the repository GitHub's push payloads name, so releases-branch pushes are routed to it.
    expect(repositoryKey(origin ?? "")).toBe(repositoryKey("https://github.com/acme/deploy.git"));
    // So the service can say that the token in the URL is not used.
    expect(await readConfigOrigin(repo.dir)).toEqual({ url: "https://github.com/acme/deploy.git", hadCredentials: true });
  });

  it("says a plain origin had no credentials", async () => {
    repo = await createTestRepo();
    await simpleGit(repo.dir).addRemote("origin", "https://github.com/acme/deploy.git");
    expect(await readConfigOrigin(repo.dir)).toEqual({ url: "https://github.com/acme/deploy.git", hadCredentials: false });
  });

  it("is undefined for a checkout without origin", async () => {
    repo = await createTestRepo();
    expect(await configOriginOf(repo.dir)).toBeUndefined();
  });
});

describe("withoutCredentials", () => {
  it.each([
    ["https://ghp_TOKEN@github.com/acme/deploy.git", "https://github.com/acme/deploy.git"],
    ["https://user:pa%40ss@github.example.com:8443/acme/deploy", "https://github.example.com:8443/acme/deploy"],
    ["HTTP://user:p@ss@host/acme/deploy.git", "HTTP://host/acme/deploy.git"],
    // SSH needs its login name, which is no secret; a password never stays.
    ["ssh://git@github.com/acme/deploy.git", "ssh://git@github.com/acme/deploy.git"],
    ["ssh://git:secret@github.com/acme/deploy.git", "ssh://git@github.com/acme/deploy.git"],
    ["git@github.com:acme/deploy.git", "git@github.com:acme/deploy.git"],
    ["https://github.com/acme/deploy.git", "https://github.com/acme/deploy.git"],
    ["https://github.com/acme/deploy@v1.git", "https://github.com/acme/deploy@v1.git"],
    ["file:///srv/git/deploy.git", "file:///srv/git/deploy.git"],
  ])("%s → %s", (url, expected) => {
    expect(withoutCredentials(url)).toBe(expected);
  });
});
