import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_HINTS, createRevisionHintFile, revisionHintFilePath } from "../../src/aws/revision-hint-file.js";
import { HINT_MAX_AGE_MS, keptRevisionHints, revisionHintScope, type RevisionHintStore, type SavedRevisionHint } from "../../src/aws/revision-hints.js";

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

    first.write("us-east-1 - - etl-canary", { revision: 10_001, savedAt: 1 });
    second.write("us-east-1 - - etl", { revision: 9_990, savedAt: 2 });
    first.write("us-east-1 - - etl-canary", { revision: 10_002, savedAt: 3 });

    expect(second.read("us-east-1 - - etl-canary")).toEqual({ revision: 10_002, savedAt: 3 });
    expect(first.read("us-east-1 - - etl")).toEqual({ revision: 9_990, savedAt: 2 });
    // Written whole through a rename: nothing else is left in the folder.
    expect(readdirSync(join(tempDir(), "nested"))).toEqual(["revision-hints.json"]);
  });

  it("keeps the most recently saved names when it holds too many", () => {
    const path = join(tempDir(), "revision-hints.json");
    // Full: name-0 saved first, name-(MAX_HINTS - 1) last.
    const full = Object.fromEntries(Array.from({ length: MAX_HINTS }, (_, n) => [`r - - name-${n}`, { revision: n + 1, savedAt: n }]));
    writeFileSync(path, JSON.stringify({ version: 1, hints: full }));
    const hints = createRevisionHintFile(path);

    hints.write(`r - - name-${MAX_HINTS}`, { revision: MAX_HINTS + 1, savedAt: MAX_HINTS });

    expect(hints.read("r - - name-0")).toBeUndefined();
    expect(hints.read("r - - name-1")?.revision).toBe(2);
    expect(hints.read(`r - - name-${MAX_HINTS}`)?.revision).toBe(MAX_HINTS + 1);
    expect(Object.keys(JSON.parse(readFileSync(path, "utf8")).hints)).toHaveLength(MAX_HINTS);
  });

  it("refuses a file that is not one of its own, and replaces it on the next save", () => {
    const path = join(tempDir(), "revision-hints.json");
    const hints = createRevisionHintFile(path);
    for (const text of ["{not json", JSON.stringify({ version: 2, hints: {} }), JSON.stringify({ version: 1, hints: { k: { revision: "7", savedAt: 0 } } })]) {
      writeFileSync(path, text);
      expect(() => hints.read("k"), text).toThrow(/is not a batchship revision hint file/);
    }

    hints.write("k", { revision: 7, savedAt: 0 });

    expect(hints.read("k")).toEqual({ revision: 7, savedAt: 0 });
  });

  it("fails a save it cannot make, and leaves nothing behind", () => {
    // A folder where the file should be: the rename onto it fails, for root too.
    const path = join(tempDir(), "revision-hints.json");
    mkdirSync(join(path, "in-the-way"), { recursive: true });
    const hints = createRevisionHintFile(path);

    expect(() => hints.write("k", { revision: 2, savedAt: 0 })).toThrow(/EISDIR|ENOTEMPTY|EEXIST/);

    expect(readdirSync(tempDir())).toEqual(["revision-hints.json"]);
  });
});

describe("saved revision hints, as the AWS backend keeps them", () => {
  const DAY = 24 * 60 * 60 * 1000;

  /** A store in memory that counts its writes and can be made to fail. */
  function memoryStore() {
    const values = new Map<string, SavedRevisionHint>();
    const store = {
      values,
      writes: 0,
      failing: false,
      read: (key: string) => {
        if (store.failing) throw new Error("disk on fire");
        return values.get(key);
      },
      write: (key: string, hint: SavedRevisionHint) => {
        store.writes++;
        if (store.failing) throw new Error("disk on fire");
        values.set(key, hint);
      },
    } satisfies RevisionHintStore & Record<string, unknown>;
    return store;
  }

  it("keeps one Batch's hints apart from another's: region, profile and endpoint", async () => {
    const store = memoryStore();
    const region = (name: string) => async () => name;
    const here = keptRevisionHints(store, revisionHintScope(region("eu-west-1"), { AWS_PROFILE: "prod" }));
    here.write("etl", { revision: 500, savedAt: Date.now() });
    await settled();

    expect(await keptRevisionHints(store, revisionHintScope(region("eu-west-1"), { AWS_PROFILE: "prod" })).read("etl")).toBe(500);
    expect(await keptRevisionHints(store, revisionHintScope(region("eu-west-1"), { AWS_PROFILE: "dev" })).read("etl")).toBeUndefined();
    expect(await keptRevisionHints(store, revisionHintScope(region("us-east-1"), { AWS_PROFILE: "prod" })).read("etl")).toBeUndefined();
    expect(await keptRevisionHints(store, revisionHintScope(region("eu-west-1"), { AWS_PROFILE: "prod", AWS_ENDPOINT_URL: "http://localhost:5000" })).read("etl")).toBeUndefined();
    expect(await keptRevisionHints(store, revisionHintScope(region("eu-west-1"), { AWS_PROFILE: "prod" }, "http://localhost:5000")).read("etl")).toBeUndefined();
  });

  it("saves what changed, and an unchanged number once a day so that it does not age out", async () => {
    let now = 1_000 * DAY;
    const clock = { now: () => now };
    const store = memoryStore();
    const hints = keptRevisionHints(store, async () => "r", undefined, clock);
    hints.write("etl", { revision: 7, savedAt: now });
    hints.write("etl", { revision: 7, savedAt: now + 1 });
    await settled();
    expect(store.writes).toBe(1);
    // A number read back is known saved: another process confirming it makes no write.
    const another = keptRevisionHints(store, async () => "r", undefined, clock);
    expect(await another.read("etl")).toBe(7);
    another.write("etl", { revision: 7, savedAt: now });
    await settled();
    expect(store.writes).toBe(1);

    now += DAY + 1;
    another.write("etl", { revision: 7, savedAt: now });
    another.write("etl", { revision: 8, savedAt: now });
    await settled();
    expect(store.writes).toBe(3);
    expect(store.values.get("r etl")).toEqual({ revision: 8, savedAt: now });
  });

  it("does not use a number saved more than 90 days ago, or ahead of the clock, nor one a revision cannot have", async () => {
    const now = 1_000 * DAY;
    const store = memoryStore();
    const hints = keptRevisionHints(store, async () => "r", undefined, { now: () => now });

    store.values.set("r etl", { revision: 7, savedAt: now - HINT_MAX_AGE_MS });
    expect(await hints.read("etl")).toBe(7);
    store.values.set("r etl", { revision: 7, savedAt: now - HINT_MAX_AGE_MS - 1 });
    expect(await hints.read("etl")).toBeUndefined();
    expect(HINT_MAX_AGE_MS).toBe(90 * DAY);
    // Saved by a clock two days ahead (a cache restored from another machine).
    store.values.set("r etl", { revision: 7, savedAt: now + 2 * DAY });
    expect(await hints.read("etl")).toBeUndefined();

    for (const bad of [0, -3, 1.5, 2 ** 31]) {
      store.values.set("r etl", { revision: bad, savedAt: now });
      expect(await hints.read("etl"), String(bad)).toBeUndefined();
    }
  });

  it("goes without a hint it cannot read or save, says why, and saves it again next time", async () => {
    const store = memoryStore();
    const said: string[] = [];
    const hints = keptRevisionHints(store, async () => "r", (message) => said.push(message));
    store.failing = true;

    expect(await hints.read("etl")).toBeUndefined();
    hints.write("etl", { revision: 8, savedAt: Date.now() });
    await settled();
    store.failing = false;
    hints.write("etl", { revision: 8, savedAt: Date.now() });
    await settled();

    expect(said).toEqual([
      expect.stringMatching(/^could not read the saved newest revision of etl \(disk on fire\)/),
      expect.stringMatching(/^could not save the newest revision of etl \(disk on fire\)/),
    ]);
    expect(store.values.get("r etl")?.revision).toBe(8);
  });

  it("goes without hints when the region cannot be resolved", async () => {
    const store = memoryStore();
    const hints = keptRevisionHints(store, revisionHintScope(() => Promise.reject(new Error("no region")), {}));
    expect(await hints.read("etl")).toBeUndefined();
  });
});
