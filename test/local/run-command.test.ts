import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "../../src/local/run-command.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "batchship-run-command-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const env = { PATH: process.env["PATH"] ?? "" };
const SCRIPT = "echo one; echo two >&2; sleep 0.2; echo three; exit 3";

describe("runCommand's log file", () => {
  it("appends everything the command prints", async () => {
    const logFile = join(dir, "ok.log");
    const outcome = await runCommand("sh", ["-c", SCRIPT], { env, logFile });
    expect(outcome.code).toBe(3);
    expect(outcome.tail).toEqual(["one", "two", "three"]);
    expect((await readFile(logFile, "utf8")).split("\n").sort()).toEqual(["", "one", "three", "two"]);
  });

  it("keeps running the command when the log cannot be opened, and says so in the tail", async () => {
    const logFile = join(dir, "no-such-dir", "child.log");
    const outcome = await runCommand("sh", ["-c", SCRIPT], { env, logFile });
    expect(outcome.code).toBe(3);
    expect(outcome.stdout).toBe("one\nthree\n");
    expect(outcome.tail.slice(0, 3)).toEqual(["one", "two", "three"]);
    expect(outcome.tail.at(-1)).toMatch(/^batchship: could not write the log .*child\.log: .*ENOENT/);
  });

  it("keeps running the command when writing the log fails (a full disk), and says so in the tail", async () => {
    // Every write to /dev/full fails with ENOSPC.
    const outcome = await runCommand("sh", ["-c", SCRIPT], { env, logFile: "/dev/full" });
    expect(outcome.code).toBe(3);
    expect(outcome.stdout).toBe("one\nthree\n");
    expect(outcome.tail.filter((line) => !line.startsWith("batchship:"))).toEqual(["one", "two", "three"]);
    expect(outcome.tail.at(-1)).toMatch(/^batchship: could not write the log \/dev\/full: .*ENOSPC/);
  });

  it("keeps the log note within tailLines", async () => {
    const outcome = await runCommand("sh", ["-c", SCRIPT], { env, logFile: "/dev/full", tailLines: 2 });
    expect(outcome.tail).toHaveLength(2);
    expect(outcome.tail[0]).toBe("three");
    expect(outcome.tail[1]).toMatch(/ENOSPC/);
  });
});
