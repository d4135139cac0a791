import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateCommand } from "../../src/cli/validate.js";
import { VALID, withLine } from "./fixtures.js";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) } };
}

describe("validateCommand", () => {
  let dir: string;
  let good: string;
  let bad: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "batchship-validate-"));
    good = join(dir, "good.yml");
    bad = join(dir, "bad.yml");
    await writeFile(good, VALID);
    await writeFile(bad, withLine(2, "name: Bad_Name").replace("  jobQueue: etl-queue", "  jobQueue: q\n  arraySize: 0"));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("prints ok and exits 0 when every file is valid", async () => {
    const { out, err, io } = capture();
    expect(await validateCommand([good], io)).toBe(0);
    expect(out).toEqual([`${good}: ok\n`]);
    expect(err).toEqual([]);
  });

  it("prints every problem of every file and exits 2", async () => {
    const { out, err, io } = capture();
    const missing = join(dir, "missing.yml");
    expect(await validateCommand([bad, good, missing], io)).toBe(2);
    expect(out).toEqual([`${good}: ok\n`]);
    expect(err).toEqual([
      `${bad}:2:7: name: must be lowercase letters, digits and '-', at most 64\n`,
      `${bad}:13:14: canary.arraySize: must be at least 1, got 0\n`,
      `${missing}:1:1: (root): cannot read the file: no such file or directory (ENOENT)\n`,
    ]);
  });

  it("warns about what Batch has deprecated, names the replacement, and still exits 0", async () => {
    const deprecated = join(dir, "deprecated.yml");
    await writeFile(deprecated, withLine(10, "  name: etl\n  containerProperties:\n    vcpus: 2\n    memory: 2048"));
    const { out, err, io } = capture();
    expect(await validateCommand([deprecated], io)).toBe(0);
    expect(out).toEqual([`${deprecated}: ok\n`]);
    expect(err).toEqual([
      `${deprecated}:12:5: jobDefinition.containerProperties.vcpus: warning: deprecated by AWS Batch: write resourceRequirements: [{type: VCPU, value: "2"}] instead\n`,
      `${deprecated}:13:5: jobDefinition.containerProperties.memory: warning: deprecated by AWS Batch: write resourceRequirements: [{type: MEMORY, value: "2048"}] instead\n`,
    ]);
  });

  it("exits 2 when given no files", async () => {
    const { err, io } = capture();
    expect(await validateCommand([], io)).toBe(2);
    expect(err.join("")).toMatch(/no spec files given/);
  });
});
