import { describe, expect, it } from "vitest";
import { createPipelineLocks } from "../../src/service/pipeline-locks.js";

describe("pipeline locks", () => {
  it("one holder per pipeline, never waiting; letting go (once) tells whoever skipped it", () => {
    const released: string[] = [];
    const locks = createPipelineLocks((pipeline) => released.push(pipeline));
    const etl = locks.tryAcquire("etl", "release etl-1 is running");
    expect(etl).toMatchObject({ pipeline: "etl", holder: "release etl-1 is running" });
    expect(locks.tryAcquire("etl", "a reconcile is running")).toBeUndefined();
    expect(locks.holderOf("etl")).toBe("release etl-1 is running");

    const api = locks.tryAcquire("api", "a rollback through the API is in flight");
    expect(api).toBeDefined();
    const held = locks.held();
    expect(held).toEqual(new Set(["etl", "api"]));
    held.delete("etl");
    expect(locks.held()).toEqual(new Set(["etl", "api"]));

    etl?.release();
    etl?.release();
    expect(released).toEqual(["etl"]);
    expect(locks.holderOf("etl")).toBeUndefined();
    // A stale lease let go twice never frees the next holder's lock.
    const next = locks.tryAcquire("etl", "a reconcile is running");
    etl?.release();
    expect(locks.holderOf("etl")).toBe("a reconcile is running");
    next?.release();
    api?.release();
    expect(locks.held()).toEqual(new Set());
    expect(released).toEqual(["etl", "etl", "api"]);
  });
});
