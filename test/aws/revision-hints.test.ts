import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_HINTS, createRevisionHintFile, revisionHintFilePath } from "../../src/aws/revision-hint-file.js";
import { keptRevisionHints, revisionHintScope, type RevisionHintStore } from "../../src/aws/revision-hints.js";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});
const tempDir = () => (dir ??= mkdtempSync(join(tmpdir(), "batchship-hint-file-")));

/** Lets the writes `keptRevisionHints` started settle. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe("the CLI's and the Action's revision hint file", () => {
  it("lives in the cache directory the GitOps clones use", () => {
    expect(revisionHintFilePath({ BATCHSHIP_CACHE_DIR: "/srv/cache", XDG_CACHE_HOME: "/x", HOME: "/home/u" })).toBe("/srv/cache/revision-hints.json");
    expect(revisionHintFilePath({ XDG_CACHE_HOME: "/x", HOME: "/home/u" })).toBe("/x/batchship/revision-hints.json");
    expect(revisionHintFilePath({ HOME: "/home/u" })).toBe("/home/u/.cache/batchship/revision-hints.json");
  });

  it("is created with its folder on the first save, and one process reads what another saved, each name kept", () => {
    const path = join(tempDir(), "nested", "revision-hints.json");
    const first = createRevisionHintFile(path);
    const second = createRevisionHintFile(path);
    expect(first.read("us-east-1 - - etl-canary")).toBeUndefined();

    first.write("us-east-1 - - etl-canary", 10_001);
    second.write("us-east-1 - - etl", 9_990);
    first.write("us-east-1 - - etl-canary", 10_002);

    expect(second.read("us-east-1 - - etl-canary")).toBe(10_002);
    expect(first.read("us-east-1 - - etl")).toBe(9_990);
    // Written whole through a rename: nothing else is left in the folder.
    expect(readdirSync(join(tempDir(), "nested"))).toEqual(["revision-hints.json"]);
  });

  it("keeps the most recently saved names when it holds too many", () => {
    let now = 0;
    const path = join(tempDir(), "revision-hints.json");
    const hints = createRevisionHintFile(path, () => ++now);
    for (let n = 0; n <= MAX_HINTS; n++) hints.write(`r - - name-${n}`, n + 1);

    expect(hints.read("r - - name-0")).toBeUndefined();
    expect(hints.read("r - - name-1")).toBe(2);
    expect(hints.read(`r - - name-${MAX_HINTS}`)).toBe(MAX_HINTS + 1);
    expect(Object.keys(JSON.parse(readFileSync(path, "utf8")).hints)).toHaveLength(MAX_HINTS);
  });

  it("refuses a file that is not one of its own, and replaces it on the next save", () => {
    const path = join(tempDir(), "revision-hints.json");
    const hints = createRevisionHintFile(path);
    for (const text of ["{not json", JSON.stringify({ version: 2, hints: {} }), JSON.stringify({ version: 1, hints: { k: { revision: "7", savedAt: 0 } } })]) {
      writeFileSync(path, text);
      expect(() => hints.read("k"), text).toThrow(/is not a batchship revision hint file/);
    }

    hints.write("k", 7);

    expect(hints.read("k")).toBe(7);
  });

  it("fails a save it cannot make, and leaves nothing behind", () => {
    // A folder where the file should be: the rename onto it fails, for root too.
    const path = join(tempDir(), "revision-hints.json");
    mkdirSync(join(path, "in-the-way"), { recursive: true });
    const hints = createRevisionHintFile(path);

    expect(() => hints.write("k", 2)).toThrow(/EISDIR|ENOTEMPTY|EEXIST/);

    expect(readdirSync(tempDir())).toEqual(["revision-hints.json"]);
  });
});

describe("saved revision hints, as the AWS backend keeps them", () => {
  /** A store in memory that counts its writes and can be made to fail. */
  function memoryStore() {
    const values = new Map<string, number>();
    const store = {
      values,
      writes: 0,
      failing: false,
      read: (key: string) => {
        if (store.failing) throw new Error("disk on fire");
        return values.get(key);
      },
      write: (key: string, revision: number) => {
        store.writes++;
        if (store.failing) throw new Error("disk on fire");
        values.set(key, revision);
      },
    } satisfies RevisionHintStore & Record<string, unknown>;
    return store;
  }

  it("keeps one Batch's hints apart from another's: region, profile and endpoint", async () => {
    const store = memoryStore();
    const region = (name: string) => async () => name;
    const here = keptRevisionHints(store, revisionHintScope(region("eu-west-1"), { AWS_PROFILE: "prod" }));
    here.write("etl", 500);
    await settled();

    expect(await keptRevisionHints(store, revisionHintScope(region("eu-west-1"), { AWS_PROFILE: "prod" })).read("etl")).toBe(500);
    expect(await keptRevisionHints(store, revisionHintScope(region("eu-west-1"), { AWS_PROFILE: "dev" })).read("etl")).toBeUndefined();
    expect(await keptRevisionHints(store, revisionHintScope(region("us-east-1"), { AWS_PROFILE: "prod" })).read("etl")).toBeUndefined();
    expect(await keptRevisionHints(store, revisionHintScope(region("eu-west-1"), { AWS_PROFILE: "prod", AWS_ENDPOINT_URL: "http://localhost:5000" })).read("etl")).toBeUndefined();
    expect(await keptRevisionHints(store, revisionHintScope(region("eu-west-1"), { AWS_PROFILE: "prod" }, "http://localhost:5000")).read("etl")).toBeUndefined();
  });

  it("saves only what changed, and takes no number a revision cannot have", async () => {
    const store = memoryStore();
    const hints = keptRevisionHints(store, async () => "r");
    hints.write("etl", 7);
    hints.write("etl", 7);
    await settled();
    expect(store.writes).toBe(1);
    // A number read back is known saved: writing it again is no write.
    expect(await keptRevisionHints(store, async () => "r").read("etl")).toBe(7);

    for (const bad of [0, -3, 1.5, 2 ** 31]) {
      store.values.set("r etl", bad);
      expect(await hints.read("etl"), String(bad)).toBeUndefined();
    }
  });

  it("goes without a hint it cannot read or save, says why, and saves it again next time", async () => {
    const store = memoryStore();
    const said: string[] = [];
    const hints = keptRevisionHints(store, async () => "r", (message) => said.push(message));
    store.failing = true;

    expect(await hints.read("etl")).toBeUndefined();
    hints.write("etl", 8);
    await settled();
    store.failing = false;
    hints.write("etl", 8);
    await settled();

    expect(said).toEqual([
      expect.stringMatching(/^could not read the saved newest revision of etl \(disk on fire\)/),
      expect.stringMatching(/^could not save the newest revision of etl \(disk on fire\)/),
    ]);
    expect(store.values.get("r etl")).toBe(8);
  });

  it("goes without hints when the region cannot be resolved", async () => {
    const store = memoryStore();
    const hints = keptRevisionHints(store, revisionHintScope(() => Promise.reject(new Error("no region")), {}));
    expect(await hints.read("etl")).toBeUndefined();
  });
});
