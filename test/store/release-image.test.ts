import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import DatabaseConstructor, { type Database } from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { migrate } from "../../src/store/migrations.js";
import { createPipelineHolds } from "../../src/store/pipeline-holds.js";
import { createReleaseTable, type ReleaseTable } from "../../src/store/releases.js";
import { newRelease } from "../support/new-release.js";

let dir: string;
let db: Database;
let releases: ReleaseTable;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "batchship-release-image-"));
  db = new DatabaseConstructor(join(dir, "store.db"));
  migrate(db);
  releases = createReleaseTable(db, createPipelineHolds(db));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api";
const DIGEST = `sha256:${"d".repeat(64)}`;
const KEY = "k".repeat(64);

describe("the store: which image a release ended with", () => {
  it("keeps the content key, and for a reused image the key tag and the commit that built it", () => {
    const built = newRelease("api", "built", "d1");
    const reused = newRelease("api", "reused", "d2");
    releases.enqueue(built, 1);
    releases.claimNext(2);
    releases.finish(built.id, { status: "promoted", buildId: "etl-image:1", image: { uri: `${REPO}@${DIGEST}`, digest: DIGEST, key: KEY } }, 3);
    releases.enqueue(reused, 4);
    releases.claimNext(5);
    const image = { uri: `${REPO}@${DIGEST}`, digest: DIGEST, key: KEY, reusedFrom: `batchship-key-${KEY}` };
    expect(releases.commitThatBuilt(image.uri)).toBe(built.commit);
    releases.finish(reused.id, { status: "promoted", buildId: null, image: { ...image, reusedFromCommit: built.commit } }, 6);

    expect(releases.get(built.id)?.image).toEqual({ uri: `${REPO}@${DIGEST}`, digest: DIGEST, key: KEY });
    expect(releases.get(reused.id)?.image).toEqual({ ...image, reusedFromCommit: built.commit });
    // The release that reused the image did not build it: the builder stays the answer.
    expect(releases.commitThatBuilt(image.uri)).toBe(built.commit);
    expect(releases.commitThatBuilt(`${REPO}@sha256:${"e".repeat(64)}`)).toBeUndefined();
  });

  it("keeps a rebuild asked for when the same commit is pushed again while it waits", () => {
    const asked = { ...newRelease("api", "head", "api-1"), rebuild: true };
    expect(releases.enqueue(asked, 1)).toBe(true);
    expect(releases.enqueue({ ...asked, rebuild: false, deliveryId: "push-1" }, 2)).toBe(true);
    expect(releases.get(asked.id)).toMatchObject({ rebuild: true, status: "queued" });
    expect(releases.claimNext(3)?.release).toMatchObject({ id: asked.id, rebuild: true });
    releases.enqueue(newRelease("api", "plain", "d3"), 4);
    expect(releases.get(newRelease("api", "plain", "d3").id)?.rebuild).toBe(false);
  });
});
