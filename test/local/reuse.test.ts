import { copyFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { simpleGit } from "simple-git";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBuildSources } from "../../src/git/build-sources.js";
import { KEY_TAG_PREFIX } from "../../src/release/content-key.js";
import { runRelease } from "../../src/release/run-release.js";
import type { PipelineSpec } from "../../src/spec/schema.js";
import { BUSYBOX, startLocalHarness, type LocalHarness } from "./harness.js";

// Real builds, a real registry and real containers: seconds per release, not milliseconds.
const SLOW = 180_000;

let h: LocalHarness;
beforeAll(async () => {
  h = await startLocalHarness();
  // The app lives in app/, so a commit outside it leaves the build context as it was.
  const files = await h.appFiles();
  await mkdir(join(h.repo.dir, "app"), { recursive: true });
  await copyFile(BUSYBOX, join(h.repo.dir, "app", "busybox"));
  await simpleGit(h.repo.dir).add([join("app", "busybox")]);
  await h.repo.commit({ "app/Dockerfile": files["Dockerfile"] ?? "", "app/app.sh": files["app.sh"] ?? "", "README.md": "# hello\n" });
}, SLOW);
afterAll(async () => h?.close());

function pipeline(name: string, build: { reuse?: boolean } = {}, context = "app"): PipelineSpec {
  const spec = h.spec(name, { canary: { arraySize: 1 } });
  return { ...spec, image: { ...spec.image, context, dockerfile: `${context}/Dockerfile` }, build: { ...spec.build, ...build } };
}

async function release(spec: PipelineSpec, commit: string, options: { rebuild?: boolean } = {}) {
  const { ctx, events } = h.engine();
  const sources = await readBuildSources(h.repo.dir, commit, spec.image);
  const result = await runRelease(ctx, { spec, commit, branch: "main", sources, ...options });
  expect(result.error).toBeUndefined();
  return { result, builds: events.filter((e) => e.type === "build-started").length };
}

async function digestOf(name: string, tag: string): Promise<string | null> {
  const head = await fetch(`http://${h.registry.host}/v2/${name}/manifests/${tag}`, {
    method: "HEAD",
    headers: { accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" },
  });
  return head.ok ? head.headers.get("docker-content-digest") : null;
}

describe("build once per content (local backend)", () => {
  it("releases a documentation-only commit with no build and the same digest, under the commit's tags", { timeout: SLOW }, async () => {
    const spec = pipeline("docs");
    const first = await release(spec, await h.repo.commit({ "README.md": "# hello 1\n" }));
    expect(first.builds).toBe(1);
    expect(await digestOf("docs", `${KEY_TAG_PREFIX}${first.result.image?.key}`)).toBe(first.result.image?.digest);

    const docs = await h.repo.commit({ "README.md": "# hello 2\n" });
    const started = Date.now();
    const second = await release(spec, docs);

    expect(second.builds).toBe(0);
    expect(second.result.status).toBe("promoted");
    expect(second.result.image?.digest).toBe(first.result.image?.digest);
    expect(second.result.image?.reusedFrom).toBe(`${KEY_TAG_PREFIX}${first.result.image?.key}`);
    expect(await digestOf("docs", docs)).toBe(first.result.image?.digest);
    expect(await digestOf("docs", `main-${docs.slice(0, 7)}`)).toBe(first.result.image?.digest);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it("builds when a file in the context, a build argument or the Dockerfile changes, with build.reuse: false, and with the rebuild flag", { timeout: SLOW }, async () => {
    const spec = pipeline("change");
    const first = await release(spec, await h.repo.commit({ "README.md": "# change 1\n" }));
    const changed = await release(spec, await h.repo.commit({ "app/app.sh": `${(await h.appFiles())["app.sh"]}# changed\n` }));
    expect(changed.builds).toBe(1);
    expect(changed.result.image?.key).not.toBe(first.result.image?.key);

    // Outside the context's files, but read by the build all the same.
    const withArg = { ...spec, image: { ...spec.image, buildArgs: { GREETING: "hello" } } };
    const argChanged = await release(withArg, await h.repo.commit({ "README.md": "# change arg\n" }));
    expect(argChanged.builds).toBe(1);
    expect(argChanged.result.image?.key).not.toBe(changed.result.image?.key);
    const dockerfile = (await readFile(join(h.repo.dir, "app", "Dockerfile"), "utf8")) + "LABEL batchship.test=dockerfile-changed\n";
    const dockerfileChanged = await release(withArg, await h.repo.commit({ "app/Dockerfile": dockerfile }));
    expect(dockerfileChanged.builds).toBe(1);
    expect(dockerfileChanged.result.image?.key).not.toBe(argChanged.result.image?.key);

    const noReuse = await release(pipeline("change", { reuse: false }), await h.repo.commit({ "README.md": "# change 2\n" }));
    expect(noReuse.builds).toBe(1);
    expect(noReuse.result.image?.reusedFrom).toBeUndefined();

    const rebuilt = await release(spec, await h.repo.commit({ "README.md": "# change 3\n" }), { rebuild: true });
    expect(rebuilt.builds).toBe(1);
    expect(rebuilt.result.image?.reusedFrom).toBeUndefined();

    // Adding tags never moves one: the changed commit's sha tag stays on its own image.
    const { ctx } = h.engine();
    const repository = await ctx.backend.registry.ensureRepository(spec.image.repository);
    await expect(ctx.backend.registry.addTags?.(repository, first.result.image?.digest ?? "", [changed.result.commit])).rejects.toThrow(
      /names another image/,
    );
    expect(await digestOf("change", changed.result.commit)).toBe(changed.result.image?.digest);
  });

  it("rebuilds only the pipeline whose context a commit touches (two pipelines on one repository)", { timeout: SLOW }, async () => {
    // A second service in web/, its own image from its own context.
    const files = await h.appFiles("web");
    await mkdir(join(h.repo.dir, "web"), { recursive: true });
    await copyFile(BUSYBOX, join(h.repo.dir, "web", "busybox"));
    await simpleGit(h.repo.dir).add([join("web", "busybox")]);
    const base = await h.repo.commit({ "web/Dockerfile": files["Dockerfile"] ?? "", "web/app.sh": files["app.sh"] ?? "" });
    const app = pipeline("mono-app");
    const web = pipeline("mono-web", {}, "web");
    const [appFirst, webFirst] = await Promise.all([release(app, base), release(web, base)]);
    expect([appFirst.builds, webFirst.builds]).toEqual([1, 1]);

    const touchWeb = await h.repo.commit({ "web/app.sh": `${files["app.sh"] ?? ""}# web changed\n` });
    const [appSecond, webSecond] = await Promise.all([release(app, touchWeb), release(web, touchWeb)]);

    expect(appSecond.builds).toBe(0);
    expect(appSecond.result.image?.digest).toBe(appFirst.result.image?.digest);
    expect(appSecond.result.image?.reusedFrom).toBe(`${KEY_TAG_PREFIX}${appFirst.result.image?.key}`);
    expect(await digestOf("mono-app", touchWeb)).toBe(appFirst.result.image?.digest);
    expect(webSecond.builds).toBe(1);
    expect(webSecond.result.image?.reusedFrom).toBeUndefined();
    expect(webSecond.result.image?.key).not.toBe(webFirst.result.image?.key);
    expect(webSecond.result.image?.digest).not.toBe(webFirst.result.image?.digest);
    expect(await digestOf("mono-web", touchWeb)).toBe(webSecond.result.image?.digest);
  });
});
