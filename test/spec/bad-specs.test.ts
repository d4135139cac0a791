import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsBackend } from "../../src/aws/index.js";
import { main } from "../../src/cli/main.js";
import { startEmulator, testClientConfig, type Emulator } from "../emulator/index.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";

/**
 * The corpus of job definitions AWS Batch would refuse, or that would not do what they say
 * (a typo dropping the command). Each file states the exact problems `validate` must report, as
 * `# expect: line:col: path: message` lines at its top.
 */
const DIR = fileURLToPath(new URL("./bad-specs/", import.meta.url));
const CORPUS = readdirSync(DIR)
  .filter((name) => name.endsWith(".yml"))
  .sort()
  .map((name) => {
    const text = readFileSync(`${DIR}${name}`, "utf8");
    const expected = text
      .split("\n")
      .filter((line) => line.startsWith("# expect: "))
      .map((line) => line.slice("# expect: ".length));
    return { name, text, expected };
  });

async function run(args: string[], backend?: () => ReturnType<typeof createAwsBackend>) {
  const out: string[] = [];
  const err: string[] = [];
  let backendCreated = false;
  const code = await main(["node", "batchship", ...args], {
    io: { stdout: (s) => out.push(s), stderr: (s) => err.push(s) },
    createBackend: () => {
      backendCreated = true;
      if (backend === undefined) throw new Error("no backend in this test");
      return backend();
    },
  });
  return { code, out: out.join(""), err: err.join(""), backendCreated };
}

describe("the corpus of bad job definitions", () => {
  it("has at least 40 specs, each expecting at least one problem", () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(40);
    for (const { name, expected } of CORPUS) expect(expected, name).not.toEqual([]);
  });

  it.each(CORPUS)("validate $name: exit 2 with exactly the expected problems", async ({ name, expected }) => {
    const file = `${DIR}${name}`;
    const { code, out, err } = await run(["validate", file]);
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(err.trimEnd().split("\n")).toEqual(expected.map((problem) => `${file}:${problem}`));
  });
});

describe("release of a corpus spec", () => {
  let emu: Emulator;
  let repo: TestRepo;
  beforeAll(async () => {
    emu = await startEmulator();
    repo = await createTestRepo();
    await repo.commit(Object.fromEntries(CORPUS.map(({ name, text }) => [`pipelines/${name}`, text])));
  });
  afterAll(async () => {
    await emu?.close();
    await repo?.remove();
  });

  it.each(CORPUS)("$name: exit 2, no AWS call", async ({ name, expected }) => {
    const before = emu.calls.length;
    const file = `${repo.dir}/pipelines/${name}`;
    const { code, err, backendCreated } = await run(["release", "--pipeline", file], () => createAwsBackend(testClientConfig(emu)));
    expect(code).toBe(2);
    expect(err).toContain(`${file}:${expected[0]}`);
    expect(backendCreated).toBe(false);
    expect(emu.calls.slice(before)).toEqual([]);
  });
});
