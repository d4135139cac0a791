import { chmod, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleGit } from "simple-git";
import { afterEach, describe, expect, it } from "vitest";
import { readBuildSources } from "../../src/git/build-sources.js";
import { createMirrorCache } from "../../src/git/mirror-cache.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function cacheDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "batchship-mirrors-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function appRepo(): Promise<TestRepo> {
  const repo = await createTestRepo();
  cleanups.push(() => repo.remove());
  return repo;
}

/** Accepts connections and never answers: a git host that hangs mid-request. */
async function silentServer(): Promise<number> {
  const server: Server = createServer((socket) => socket.on("data", () => undefined));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("the mirror cache", () => {
  it("fetches a pushed commit into a bare mirror, and the next release of it reads the mirror without fetching", async () => {
    const repo = await appRepo();
    const sha = await repo.commit({ "app.py": "print(1)\n" });
    const cache = createMirrorCache({ dir: await cacheDir(), allowFileSources: true });
    const mirror = await cache.fetchCommit({ url: `file://${repo.dir}`, branch: "main", commit: sha });
    expect((await simpleGit(mirror).raw(["cat-file", "-t", sha])).trim()).toBe("commit");
    await repo.remove();
    await expect(cache.fetchCommit({ url: `file://${repo.dir}`, branch: "main", commit: sha })).resolves.toBe(mirror);
  });

  it("retention deletes mirrors unused since the cutoff, never one in use or used since, and a deleted one is fetched again", async () => {
    const [kept, old, recent] = await Promise.all([appRepo(), appRepo(), appRepo()]);
    const shas = await Promise.all([kept, old, recent].map((repo) => repo.commit({ "app.py": "print(1)\n" })));
    const dir = await cacheDir();
    const cache = createMirrorCache({ dir, allowFileSources: true });
    const urls = [kept, old, recent].map((repo) => `file://${repo.dir}`);
    const mirrors = await Promise.all(urls.map((url, i) => cache.fetchCommit({ url, branch: "main", commit: shas[i] ?? "" })));
    await writeFile(join(dir, "notes.txt"), "not a mirror\n");
    const day = 24 * 60 * 60 * 1000;
    const longAgo = new Date(Date.now() - 10 * day);
    for (const mirror of mirrors.slice(0, 2)) await utimes(mirror, longAgo, longAgo);
    await utimes(join(dir, "notes.txt"), longAgo, longAgo);

    expect(await cache.prune(Date.now() - 7 * day, [urls[0] ?? ""])).toBe(1);
    expect((await readdir(dir)).sort()).toEqual([...mirrors.filter((m) => m !== mirrors[1]).map((m) => m.slice(dir.length + 1)), "notes.txt"].sort());
    // Using a mirror marks it used: a catch-up round's ls-remote keeps an unlisted one.
    await utimes(mirrors[0] ?? "", longAgo, longAgo);
    await cache.remoteHeads(urls[0] ?? "");
    expect(await cache.prune(Date.now() - 7 * day, [])).toBe(0);

    await expect(cache.fetchCommit({ url: urls[1] ?? "", branch: "main", commit: shas[1] ?? "" })).resolves.toBe(mirrors[1]);
    expect((await simpleGit(mirrors[1] ?? "").raw(["cat-file", "-t", shas[1] ?? ""])).trim()).toBe("commit");
  });

  it("serves many releases of one repository with one fetch, and fetches again only for a commit it has not seen", async () => {
    const repo = await appRepo();
    const first = await repo.commit({ "app.py": "print(1)\n" });
    const second = await repo.commit({ "app.py": "print(2)\n" });
    const calls: string[] = [];
    const dir = await cacheDir();
    const cache = createMirrorCache({ dir, allowFileSources: true, onGitCall: (call) => calls.push(call) });
    const url = `file://${repo.dir}`;
    // Twenty releases of two commits at once, as a push to twenty pipelines of one repository starts them.
    const asked = Array.from({ length: 20 }, (_, i) => cache.fetchCommit({ url, branch: "main", commit: i % 2 === 0 ? first : second }));
    const mirrors = await Promise.all(asked);
    expect(new Set(mirrors).size).toBe(1);
    expect(calls).toEqual(["fetch"]);
    const mirror = simpleGit(mirrors[0] ?? "");
    for (const sha of [first, second]) expect((await mirror.raw(["cat-file", "-t", sha])).trim()).toBe("commit");

    // A commit pushed since: fetched, once, however many ask; the known ones cost nothing more.
    const third = await repo.commit({ "app.py": "print(3)\n" });
    await Promise.all([third, third, first].map((commit) => cache.fetchCommit({ url, branch: "main", commit })));
    expect(calls).toEqual(["fetch", "fetch"]);
    expect((await mirror.raw(["cat-file", "-t", third])).trim()).toBe("commit");

    // Retention deletes the mirror: the commits it held are no longer known, and the next release fetches them again.
    const day = 24 * 60 * 60 * 1000;
    await utimes(mirrors[0] ?? "", new Date(Date.now() - 10 * day), new Date(Date.now() - 10 * day));
    expect(await cache.prune(Date.now() - 7 * day, [])).toBe(1);
    await expect(cache.fetchCommit({ url, branch: "main", commit: first })).resolves.toBe(mirrors[0]);
    expect(calls).toEqual(["fetch", "fetch", "fetch"]);
    expect((await simpleGit(mirrors[0] ?? "").raw(["cat-file", "-t", first])).trim()).toBe("commit");

    // Deleted behind the cache's back: made again and fetched, not a crash.
    await rm(mirrors[0] ?? "", { recursive: true, force: true });
    await expect(cache.fetchCommit({ url, branch: "main", commit: first })).resolves.toBe(mirrors[0]);
    expect(calls).toEqual(["fetch", "fetch", "fetch", "fetch"]);
  });

  it("reads the build's sources of a commit once for all its releases, and a failed read again", async () => {
    const repo = await appRepo();
    const sha = await repo.commit({ "Dockerfile": "FROM scratch\n", "app/main.py": "print(1)\n" });
    const cache = createMirrorCache({ dir: await cacheDir(), allowFileSources: true });
    const mirror = await cache.fetchCommit({ url: `file://${repo.dir}`, branch: "main", commit: sha });
    const image = { context: "app", dockerfile: "Dockerfile" };
    const expected = await readBuildSources(mirror, sha, image);
    const read = await Promise.all(Array.from({ length: 10 }, () => cache.buildSources(mirror, sha, image)));
    expect(read).toEqual(Array(10).fill(expected));
    // Kept, not read again: the answer holds with git unable to read the mirror.
    await rm(join(mirror, "objects"), { recursive: true, force: true });
    await expect(cache.buildSources(mirror, sha, image)).resolves.toEqual(expected);
    await expect(cache.buildSources(mirror, sha, { context: ".", dockerfile: "Dockerfile" })).rejects.toMatchObject({ code: "GIT" });
  });

  it("fetches the commits of several branches asked for together in one fetch, and one whose branch is gone by sha", async () => {
    const repo = await appRepo();
    await repo.commit({ "app.py": "print(1)\n" });
    const git = simpleGit(repo.dir);
    await git.checkoutLocalBranch("release/1");
    const onRelease = await repo.commit({ "app.py": "print(2)\n" });
    await git.checkout("main");
    const onMain = await repo.commit({ "app.py": "print(3)\n" });
    // A branch pushed, then deleted before its release started: its commit is still reachable by sha here.
    await git.checkoutLocalBranch("gone");
    const onGone = await repo.commit({ "app.py": "print(4)\n" });
    await git.checkout("main");
    await git.raw(["update-ref", "refs/keep/gone", onGone]);
    await git.deleteLocalBranch("gone", true);
    const calls: string[] = [];
    const cache = createMirrorCache({ dir: await cacheDir(), allowFileSources: true, onGitCall: (call) => calls.push(call) });
    const url = `file://${repo.dir}`;
    const [mirror] = await Promise.all([
      cache.fetchCommit({ url, branch: "main", commit: onMain }),
      cache.fetchCommit({ url, branch: "release/1", commit: onRelease }),
    ]);
    expect(calls).toEqual(["fetch"]);
    for (const sha of [onMain, onRelease]) expect((await simpleGit(mirror).raw(["cat-file", "-t", sha])).trim()).toBe("commit");

    calls.length = 0;
    const missing = "0".repeat(40);
    const outcomes = await Promise.allSettled([
      cache.fetchCommit({ url, branch: "gone", commit: onGone }),
      cache.fetchCommit({ url, branch: "main", commit: missing }),
    ]);
    expect(outcomes[0]).toEqual({ status: "fulfilled", value: mirror });
    expect(outcomes[1]).toMatchObject({ status: "rejected", reason: { code: "GIT", message: expect.stringContaining(`Could not fetch ${missing.slice(0, 12)}`) } });
    // Both branches at once (refused: one is gone), each on its own, then each commit by sha.
    expect(calls).toEqual(["fetch", "fetch", "fetch", "fetch", "fetch"]);
  });

  it("answers the branch heads asked for at once with one ls-remote that started after the question", async () => {
    const repo = await appRepo();
    const first = await repo.commit({ "app.py": "print(1)\n" });
    const calls: string[] = [];
    const cache = createMirrorCache({ dir: await cacheDir(), allowFileSources: true, onGitCall: (call) => calls.push(call) });
    const url = `file://${repo.dir}`;
    const history = cache.history(url);
    const heads = await Promise.all([cache.remoteHeads(url), ...Array.from({ length: 10 }, () => history.headOf("main"))]);
    expect(heads[0]?.get("main")).toBe(first);
    expect(heads.slice(1)).toEqual(Array(10).fill(first));
    expect(calls).toEqual(["ls-remote"]);

    // Asked while one runs: answered by the next, which sees the push made meanwhile.
    const running = cache.remoteHeads(url);
    const second = await repo.commit({ "app.py": "print(2)\n" });
    const asked = [history.headOf("main"), history.headOf("main")];
    await running;
    expect(await Promise.all(asked)).toEqual([second, second]);
    expect(calls).toEqual(["ls-remote", "ls-remote", "ls-remote"]);
    expect(await history.headOf("deleted")).toBeNull();

    // Ancestry is asked of git once per pair: kept, it holds with the mirror's objects gone.
    const mirror = await cache.fetchCommit({ url, branch: "main", commit: second });
    expect(await Promise.all([history.contains(second, first), cache.history(url).contains(second, first), history.contains(first, second)])).toEqual([true, true, false]);
    await rm(join(mirror, "objects"), { recursive: true, force: true });
    expect(await history.contains(second, first)).toBe(true);
  });

  it("gives up on a git host that accepts the connection and never answers, with a retryable error", async () => {
    const port = await silentServer();
    // Plain http only under the configured GitHub URL (an Enterprise server, here a silent one).
    const cache = createMirrorCache({ dir: await cacheDir(), stallSeconds: 1, tokenScope: `http://127.0.0.1:${port}/` });
    const started = Date.now();
    const fetching = cache.fetchCommit({ url: `http://127.0.0.1:${port}/acme/app.git`, branch: "main", commit: "a".repeat(40) });
    await expect(fetching).rejects.toMatchObject({ code: "GIT", retryable: true, message: expect.stringMatching(/^Could not fetch aaaaaaaaaaaa from http:\/\/127\.0\.0\.1:\d+\/acme\/app\.git: .*too slow/) });
    // Two fetches (the branch, then the commit by sha), each cut off after about a second.
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);

  it("refuses a branch name that git would read as an option", async () => {
    const cache = createMirrorCache({ dir: await cacheDir() });
    await expect(cache.fetchCommit({ url: "file:///nowhere", branch: "--upload-pack=touch /tmp/pwned", commit: "a".repeat(40) })).rejects.toMatchObject({ code: "USAGE" });
  });

  it("refuses a file:// source unless allowed, and any URL with credentials or another transport, before git runs", async () => {
    const repo = await appRepo();
    const sha = await repo.commit({ "app.py": "print(1)\n" });
    const dir = await cacheDir();
    const cache = createMirrorCache({ dir });
    await expect(cache.fetchCommit({ url: `file://${repo.dir}`, branch: "main", commit: sha })).rejects.toMatchObject({
      code: "GIT",
      retryable: false,
      message: expect.stringContaining("file:// sources are not allowed"),
      hint: expect.stringContaining("BATCHSHIP_ALLOW_FILE_SOURCES=1"),
    });
    const leaky = cache.fetchCommit({ url: "https://x-access-token:ghp_secret@github.com/acme/app.git", branch: "main", commit: sha });
    await expect(leaky).rejects.toMatchObject({ code: "GIT", message: expect.stringMatching(/must not hold credentials/) });
    await expect(leaky).rejects.not.toMatchObject({ message: expect.stringContaining("ghp_secret") });
    await expect(cache.fetchCommit({ url: "ext::git-upload-pack%S", branch: "main", commit: sha })).rejects.toMatchObject({ code: "GIT" });
    await expect(cache.fetchCommit({ url: "http://github.com/acme/app.git", branch: "main", commit: sha })).rejects.toMatchObject({ code: "GIT" });
    expect(await readdir(dir)).toEqual([]);
  });

  it("hands git the SSH agent, the SSH command and the proxies, and none of the service's other variables", async () => {
    const repo = await appRepo();
    const sha = await repo.commit({ "app.py": "print(1)\n" });
    const tools = await cacheDir();
    const record = join(tools, "ssh-env");
    const fakeSsh = join(tools, "fake-ssh");
    // Stands in for ssh: records what git handed it, then fails the connection as a host would.
    await writeFile(fakeSsh, `#!/bin/sh\nenv > ${JSON.stringify(record)}\nexit 255\n`);
    await chmod(fakeSsh, 0o755);
    const cache = createMirrorCache({
      dir: await cacheDir(),
      ambientEnv: {
        PATH: process.env["PATH"],
        HOME: process.env["HOME"],
        SSH_AUTH_SOCK: "/run/agent.sock",
        GIT_SSH_COMMAND: fakeSsh,
        https_proxy: "http://proxy.internal:3128",
        NO_PROXY: "localhost",
        AWS_SECRET_ACCESS_KEY: "aws-secret",
        BATCHSHIP_WEBHOOK_SECRET: "webhook-secret",
      },
    });
    await expect(cache.fetchCommit({ url: "git@git.example.com:acme/app.git", branch: "main", commit: sha })).rejects.toMatchObject({ code: "GIT", retryable: true });
    const seen = await readFile(record, "utf8");
    expect(seen).toContain("SSH_AUTH_SOCK=/run/agent.sock");
    expect(seen).toContain("https_proxy=http://proxy.internal:3128");
    expect(seen).toContain("NO_PROXY=localhost");
    expect(seen).not.toContain("aws-secret");
    expect(seen).not.toContain("webhook-secret");
  });
});
