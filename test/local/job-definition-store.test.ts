import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createJobDefinitionStore } from "../../src/local/job-definition-store.js";
import { openStateStore, type StateDb } from "../../src/local/state-store.js";

const clock = { now: () => 1_700_000_000_000 };
const body = { type: "container" as const, platformCapabilities: ["EC2"], containerProperties: { image: "127.0.0.1:5000/etl@sha256:abc" } };

let dir: string;
let db: StateDb;
let other: Database.Database;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "batchship-defs-"));
  db = openStateStore(dir);
  // Another batchship process on the same state dir (the CLI beside `serve`); no busy wait, so
  // a write it cannot make shows at once instead of after the timeout.
  other = new Database(join(dir, "local.db"), { timeout: 0 });
});
afterEach(async () => {
  other.close();
  db.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * The state db, with the other process writing right after the statement `sql` reads: the
 * interleaving that turns a read-then-write deferred transaction into SQLITE_BUSY_SNAPSHOT.
 */
function interleaved(sql: RegExp, write: () => void): StateDb {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") {
        return (text: string) => {
          const statement = target.prepare(text);
          if (!sql.test(text)) return statement;
          const get = statement.get.bind(statement);
          return Object.assign(statement, {
            get: (...args: unknown[]) => {
              const row = get(...args);
              write();
              return row;
            },
          });
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The other process's write: it commits, or is told the database is busy. */
function otherWrites(outcomes: string[]) {
  return () => {
    try {
      other.prepare("INSERT INTO builds (id, release_id, commit_sha, status, phases, log_path, started_at) VALUES (?, 'r', 'c', 'in-progress', '[]', 'l', 0)")
        .run(`build-${outcomes.length}`);
      outcomes.push("committed");
    } catch (error) {
      outcomes.push((error as { code?: string }).code ?? String(error));
    }
  };
}

describe("job definition store shared by two processes", () => {
  it("registers a revision while another process writes between its read and its write", async () => {
    const outcomes: string[] = [];
    const store = createJobDefinitionStore(interleaved(/MAX\(revision\)/, otherWrites(outcomes)), clock);

    const first = await store.registerJobDefinition("etl", body, { a: "1" });

    expect(first.revision).toBe(1);
    // The registration holds the write lock from its start: the other process waits its turn.
    expect(outcomes).toEqual(["SQLITE_BUSY"]);
    expect((await store.listJobDefinitionRevisions("etl")).map((r) => r.revision)).toEqual([1]);
  });

  it("tags a revision while another process writes between its read and its write", async () => {
    const plain = createJobDefinitionStore(db, clock);
    const { arn } = await plain.registerJobDefinition("etl", body, { a: "1" });
    const outcomes: string[] = [];
    const store = createJobDefinitionStore(interleaved(/WHERE arn = \?/, otherWrites(outcomes)), clock);

    await store.tagJobDefinition(arn, { b: "2" });

    expect(outcomes).toEqual(["SQLITE_BUSY"]);
    expect(plain.byArn(arn)?.tags).toEqual({ a: "1", b: "2" });
  });
});

describe("deregistering", () => {
  it("takes a revision out of the ACTIVE list, keeps it readable by ARN and never reuses its number", async () => {
    const store = createJobDefinitionStore(db, clock);
    const first = await store.registerJobDefinition("etl", body, {});
    const second = await store.registerJobDefinition("etl", body, {});
    await store.deregisterJobDefinition(second.arn);
    await store.deregisterJobDefinition(second.arn); // a retry after a lost answer is harmless
    expect((await store.listJobDefinitionRevisions("etl")).map((r) => r.revision)).toEqual([first.revision]);
    // As Batch lists deregistered revisions by status: what a release run again looks for.
    expect((await store.listJobDefinitionRevisions("etl", "INACTIVE")).map((r) => r.revision)).toEqual([second.revision]);
    expect(store.byArn(second.arn)?.revision).toBe(second.revision);
    expect((await store.registerJobDefinition("etl", body, {})).revision).toBe(second.revision + 1);
  });

  it("refuses an ARN the store never registered, saying which", async () => {
    const store = createJobDefinitionStore(db, clock);
    await expect(store.deregisterJobDefinition("arn:batchship:local::job-definition/nope:1")).rejects.toThrow(
      /deregister job definition arn:batchship:local::job-definition\/nope:1/,
    );
  });
});

describe("the newest revisions of a name", () => {
  it("are the ACTIVE ones among the newest 90 numbers, and say whether that is every ACTIVE one", async () => {
    const store = createJobDefinitionStore(db, clock);
    const registered = [];
    for (let n = 1; n <= 120; n++) registered.push(await store.registerJobDefinition("long", body, {}));
    await store.deregisterJobDefinition(registered[119 - 1]?.arn ?? "");
    await store.registerJobDefinition("short", body, {});

    const long = await store.newestJobDefinitionRevisions("long");
    expect(long.complete).toBe(false);
    expect(long.revisions.map((r) => r.revision)).toEqual([120, ...Array.from({ length: 88 }, (_, i) => 118 - i)]);
    expect(await store.newestJobDefinitionRevisions("short")).toMatchObject({ complete: true, revisions: [{ revision: 1 }] });
    expect(await store.newestJobDefinitionRevisions("never")).toEqual({ revisions: [], complete: true });
  });
});
