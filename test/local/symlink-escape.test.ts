import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { simpleGit } from "simple-git";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRelease } from "../../src/release/run-release.js";
import type { PipelineSpec } from "../../src/spec/schema.js";
import { startLocalHarness, type LocalHarness } from "./harness.js";

// Real builds with buildah and a real registry.
const SLOW = 120_000;

let h: LocalHarness;
/** A folder of this machine outside every commit, with a file no image may ever contain. */
let host: string;
beforeAll(async () => {
  h = await startLocalHarness();
  host = await mkdtemp(join(tmpdir(), "batchship-host-"));
  await writeFile(join(host, "secret"), "host secret\n");
  await writeFile(join(host, "Dockerfile"), "FROM scratch\nCOPY secret /secret\n");
  await mkdir(join(host, "app"));
  await writeFile(join(host, "app", "secret"), "host secret\n");
}, SLOW);
afterAll(async () => {
  await h?.close();
  if (host !== undefined) await rm(host, { recursive: true, force: true });
});

/** Commits files and symlinks (path -> target) together. */
async function commitWithLinks(files: Record<string, string>, links: Record<string, string>): Promise<string> {
  for (const [path, target] of Object.entries(links)) {
    const full = join(h.repo.dir, path);
    await mkdir(dirname(full), { recursive: true });
    await rm(full, { recursive: true, force: true });
    await symlink(target, full);
    await simpleGit(h.repo.dir).add([path]);
  }
  return h.repo.commit(files);
}

function specWith(name: string, image: { context?: string; dockerfile?: string }): PipelineSpec {
  const spec = h.spec(name, { canary: { arraySize: 1 } });
  return { ...spec, image: { ...spec.image, ...image } };
}

/** Whether the registry holds any tag of the repository: a refused build pushes nothing. */
async function registryTags(name: string): Promise<string[]> {
  const response = await fetch(`http://${h.registry.host}/v2/${name}/tags/list`);
  if (response.status === 404) return [];
  return ((await response.json()) as { tags: string[] | null }).tags ?? [];
}

async function expectRefused(name: string, spec: PipelineSpec, commit: string, message: RegExp): Promise<void> {
  // retry: two specs of one test share the commit, and so the release; a failed build is
  // otherwise reported again, not attempted again.
  const result = await runRelease(h.engine().ctx, { spec, commit, branch: "main", retry: true });
  expect(result.status).toBe("failed");
  expect(result.error?.code).toBe("SPEC_INVALID");
  expect(result.error?.message).toMatch(message);
  expect(result.error?.message).toContain("leaves the commit");
  expect(result.candidate ?? null).toBeNull();
  expect(await registryTags(name)).toEqual([]);
  expect(await h.backend.platform.listJobDefinitionRevisions(`${name}-canary`)).toEqual([]);
}

describe("a commit whose symlinks lead the build out of the commit", () => {
  it("refuses a context folder that is itself a symlink to a host folder", { timeout: SLOW }, async () => {
    const commit = await commitWithLinks({ "ctx-self/Dockerfile": "FROM scratch\nCOPY secret /secret\n" }, { "ctx-self/app": join(host, "app") });
    const spec = specWith("ctx-self", { context: "ctx-self/app", dockerfile: "ctx-self/Dockerfile" });
    await expectRefused("ctx-self", spec, commit, /image\.context ctx-self\/app leaves the commit: ctx-self\/app is a symlink/);
  });

  it("refuses a context folder below a parent that is a symlink, relative or absolute", { timeout: SLOW }, async () => {
    const commit = await commitWithLinks(
      { "ctx-parent.txt": "1" },
      { "ctx-parent/absolute": host, "ctx-parent/relative": `../${"../".repeat(20)}${host.slice(1)}` },
    );
    await expectRefused("ctx-parent", specWith("ctx-parent", { context: "ctx-parent/absolute/app" }), commit, /ctx-parent\/absolute is a symlink/);
    await expectRefused("ctx-parent", specWith("ctx-parent", { context: "ctx-parent/relative/app" }), commit, /ctx-parent\/relative is a symlink/);
  });

  it("refuses a Dockerfile that is a symlink to a host file, or one that leads nowhere", { timeout: SLOW }, async () => {
    const commit = await commitWithLinks(
      { "df-link.txt": "1" },
      { "df-link/Dockerfile": join(host, "Dockerfile"), "df-link/dangling": join(host, "missing", "Dockerfile") },
    );
    await expectRefused("df-link", specWith("df-link", { dockerfile: "df-link/Dockerfile" }), commit, /image\.dockerfile df-link\/Dockerfile leaves the commit/);
    await expectRefused("df-link", specWith("df-link", { dockerfile: "df-link/dangling" }), commit, /df-link\/dangling is a symlink/);
  });

  it("builds from symlinks that stay inside the commit", { timeout: SLOW }, async () => {
    const commit = await commitWithLinks({ ...(await h.appFiles()) }, { "inside/app": "..", "inside/Dockerfile": "../Dockerfile" });
    const spec = specWith("inside", { context: "inside/app", dockerfile: "inside/Dockerfile" });
    const result = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    expect(result.error).toBeUndefined();
    expect(result.status).toBe("promoted");
    expect(await registryTags("inside")).toContain(commit);
  });
});
