import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadPipelineSet, type PipelineSet } from "../../src/service/pipeline-set.js";
import { VALID } from "../spec/fixtures.js";

/** A valid spec file for pipeline `name`; `queue` tells two versions of one pipeline apart. */
const spec = (name: string, queue = `${name}-queue`): string =>
  VALID.replace("name: etl", `name: ${name}`).replace("jobQueue: etl-queue", `jobQueue: ${queue}`);
/** The same file with a typo on line 12 (`jobQueue` misspelt). */
const typo = (name: string): string => spec(name).replace("  jobQueue:", "  jobQeue:");

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "batchship-pipeline-set-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const write = (name: string, text: string) => writeFile(join(dir, name), text);
const queues = (set: PipelineSet) => Object.fromEntries([...set.specs].map(([name, s]) => [name, s.canary.jobQueue]));

describe("loadPipelineSet", () => {
  it("loads every valid file and skips a broken one, reporting it by file:line:col", async () => {
    await write("a.yml", spec("a"));
    await write("b.yaml", spec("b"));
    await write("c.yml", typo("c"));
    await write("notes.txt", "not a pipeline");
    const set = await loadPipelineSet(dir, 1_000);
    expect(queues(set)).toEqual({ a: "a-queue", b: "b-queue" });
    const c = join(dir, "c.yml");
    // The typo stands for the missing key: one problem, not two.
    expect(set.problems).toEqual([`${c}:12:3: canary.jobQeue: unknown key "jobQeue" (did you mean "jobQueue"?)`]);
    expect(set.kept).toEqual([]);
    expect(set.loadedAt).toBe(1_000);
  });

  it("on reload, a file that loaded before and now has problems keeps serving its last good copy", async () => {
    await write("a.yml", spec("a", "q1"));
    await write("b.yml", spec("b", "q1"));
    const first = await loadPipelineSet(dir, 1_000);

    await write("a.yml", typo("a"));
    await write("b.yml", spec("b", "q2"));
    const second = await loadPipelineSet(dir, 2_000, first);
    expect(queues(second)).toEqual({ a: "q1", b: "q2" });
    expect(second.specs.get("a")).toBe(first.specs.get("a"));
    const file = join(dir, "a.yml");
    expect(second.problems).toContain(`${file}:12:3: canary.jobQeue: unknown key "jobQeue" (did you mean "jobQueue"?)`);
    expect(second.kept).toEqual([{ file, pipeline: "a", since: 2_000, problems: second.problems }]);

    // Still broken: still the same copy, broken since the first reload that saw it.
    const third = await loadPipelineSet(dir, 3_000, second);
    expect(third.specs.get("a")).toBe(first.specs.get("a"));
    expect(third.kept).toMatchObject([{ file, pipeline: "a", since: 2_000 }]);

    // Fixed: the new copy is served and nothing is kept.
    await write("a.yml", spec("a", "q3"));
    const fixed = await loadPipelineSet(dir, 4_000, third);
    expect(queues(fixed)).toEqual({ a: "q3", b: "q2" });
    expect(fixed.problems).toEqual([]);
    expect(fixed.kept).toEqual([]);

    // Broken again later: a new `since`.
    await write("a.yml", "apiVersion: batchship/v1\nname: [a\n");
    const again = await loadPipelineSet(dir, 5_000, fixed);
    expect(queues(again)).toEqual({ a: "q3", b: "q2" });
    expect(again.kept).toMatchObject([{ pipeline: "a", since: 5_000, problems: [expect.stringMatching(/a\.yml:\d+:\d+: \(root\): invalid YAML/)] }]);
  });

  it("a file that never loaded stays skipped on reload", async () => {
    await write("a.yml", spec("a"));
    const first = await loadPipelineSet(dir, 1_000);
    await write("new.yml", typo("new"));
    const second = await loadPipelineSet(dir, 2_000, first);
    expect([...second.specs.keys()]).toEqual(["a"]);
    expect(second.kept).toEqual([]);
    expect(second.problems.every((p) => p.startsWith(`${join(dir, "new.yml")}:`))).toBe(true);
    expect(second.problems.length).toBeGreaterThan(0);
  });

  it("a deleted file drops its pipeline, even one that was running on its last good copy", async () => {
    await write("a.yml", spec("a"));
    await write("b.yml", spec("b"));
    const first = await loadPipelineSet(dir, 1_000);
    await write("b.yml", typo("b"));
    const second = await loadPipelineSet(dir, 2_000, first);
    expect([...second.specs.keys()]).toEqual(["a", "b"]);

    await rm(join(dir, "a.yml"));
    await rm(join(dir, "b.yml"));
    const third = await loadPipelineSet(dir, 3_000, second);
    expect([...third.specs.keys()]).toEqual([]);
    expect(third.problems).toEqual([]);
    expect(third.kept).toEqual([]);
  });

  it("keys the last good copy by file: a broken edit that renames the pipeline keeps the old name running", async () => {
    await write("etl.yml", spec("etl"));
    const first = await loadPipelineSet(dir, 1_000);
    await write("etl.yml", typo("etl-v2"));
    const second = await loadPipelineSet(dir, 2_000, first);
    expect([...second.specs.keys()]).toEqual(["etl"]);
    expect(second.kept).toMatchObject([{ file: join(dir, "etl.yml"), pipeline: "etl" }]);

    await write("etl.yml", spec("etl-v2"));
    const fixed = await loadPipelineSet(dir, 3_000, second);
    expect([...fixed.specs.keys()]).toEqual(["etl-v2"]);
    expect(fixed.kept).toEqual([]);
  });

  it("a file renamed on disk is a new file: a broken copy under the new name is skipped", async () => {
    await write("a.yml", spec("a"));
    const first = await loadPipelineSet(dir, 1_000);
    await rm(join(dir, "a.yml"));
    await write("a.yaml", typo("a"));
    const second = await loadPipelineSet(dir, 2_000, first);
    expect([...second.specs.keys()]).toEqual([]);
    expect(second.kept).toEqual([]);
  });

  it("names are claimed in file order: a kept copy neither loses its name to a later file nor takes an earlier file's", async () => {
    await write("a.yml", spec("x", "from-a"));
    await write("b.yml", spec("x", "from-b"));
    await write("c.yml", spec("y", "from-c"));
    const first = await loadPipelineSet(dir, 1_000);
    expect(queues(first)).toEqual({ x: "from-a", y: "from-c" });
    expect(first.problems).toEqual([`${join(dir, "b.yml")}: pipeline name x is used by another file; skipped`]);

    // a.yml breaks: x stays on a.yml's last good copy; b.yml is still the duplicate.
    await write("a.yml", typo("x"));
    const second = await loadPipelineSet(dir, 2_000, first);
    expect(queues(second)).toEqual({ x: "from-a", y: "from-c" });
    expect(second.kept).toMatchObject([{ file: join(dir, "a.yml"), pipeline: "x" }]);
    expect(second.problems).toContain(`${join(dir, "b.yml")}: pipeline name x is used by another file; skipped`);

    // b.yml was never served, so breaking it keeps nothing.
    await write("b.yml", typo("x"));
    const third = await loadPipelineSet(dir, 3_000, second);
    expect(third.kept.map((k) => k.file)).toEqual([join(dir, "a.yml")]);

    // c.yml breaks while a.yml (earlier, valid again) now names its pipeline y: a.yml wins,
    // c.yml's kept copy is reported and dropped, and is not kept on the next reload either.
    await write("a.yml", spec("y", "from-a"));
    await write("c.yml", typo("y"));
    const fourth = await loadPipelineSet(dir, 4_000, third);
    expect(queues(fourth)).toEqual({ y: "from-a" });
    expect(fourth.kept).toEqual([]);
    expect(fourth.problems).toContain(`${join(dir, "c.yml")}: its last good copy names pipeline y, which another file now uses; skipped`);
    await write("a.yml", spec("z", "from-a"));
    const fifth = await loadPipelineSet(dir, 5_000, fourth);
    expect(queues(fifth)).toEqual({ z: "from-a" });
    expect(fifth.kept).toEqual([]);
  });

  it("a folder that cannot be read is an error", async () => {
    await expect(loadPipelineSet(join(dir, "missing"), 1_000)).rejects.toThrow(/Could not read the pipelines folder/);
  });
});
