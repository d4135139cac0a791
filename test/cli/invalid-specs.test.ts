import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsBackend } from "../../src/aws/index.js";
import { main } from "../../src/cli/main.js";
import { startEmulator, testClientConfig, type Emulator } from "../emulator/index.js";
import { createTestRepo, type TestRepo } from "../support/git-repo.js";
import { pipelineYaml } from "./pipeline-yaml.js";

let emu: Emulator;
let repo: TestRepo;
beforeAll(async () => {
  emu = await startEmulator();
  repo = await createTestRepo();
});
afterAll(async () => {
  await emu?.close();
  await repo?.remove();
});

const valid = pipelineYaml("etl");
const replace = (from: string, to: string) => valid.replace(from, to);

/** Each: a broken spec and the problem `release` must report (file:line:col: path: message). */
const CASES: [string, string, RegExp][] = [
  ["wrong apiVersion", replace("batchship/v1", "batchship/v2"), /:1:\d+: apiVersion: /],
  ["uppercase name", replace("name: etl\n", "name: ETL\n"), /:2:\d+: name: /],
  ["unknown top-level key", valid + "promotoin:\n  mode: auto\n", /promotoin.*did you mean "promotion"/],
  ["unknown nested key", replace("  arraySize: 2", "  arraySize: 2\n  arraySise: 3"), /canary.*arraySise/],
  ["missing section", replace("build:\n  backend: codebuild\n  project: etl-image\n", ""), /(\(root\)|build).*build/],
  ["array too small", replace("arraySize: 2", "arraySize: 0"), /canary\.arraySize/],
  ["array too large", replace("arraySize: 2", "arraySize: 10001"), /canary\.arraySize/],
  ["rate above 1", replace("  arraySize: 2", "  arraySize: 2\n  minSuccessRate: 1.5"), /canary\.minSuccessRate/],
  ["first tag without sha", replace("  repository: etl\nbuild", "  repository: etl\n  tags: [latest]\nbuild"), /image\.tags/],
  ["image set by hand", replace("    vcpus: 1", "    vcpus: 1\n    image: busybox"), /containerProperties/],
  ["reserved tag", replace("  parameters:\n    day", "  tags:\n    batchship:commit: x\n  parameters:\n    day"), /jobDefinition\.tags/],
  ["string for a number", replace("arraySize: 2", 'arraySize: "two"'), /canary\.arraySize/],
  ["duplicate key", replace("  arraySize: 2", "  arraySize: 2\n  arraySize: 3"), /arraySize/],
  ["yaml syntax", replace("branches: [main]", "branches: [main"), /:\d+:\d+: /],
  ["retention without a rollback target", valid + "retention:\n  production: 1\n", /:\d+:\d+: retention\.production/],
  ["retention beyond one lookup page", valid + "retention:\n  candidates: 500\n", /:\d+:\d+: retention\.candidates/],
  ["fallback equals queue", replace("  arraySize: 2", "  arraySize: 2\n  fallbackJobQueue: etl"), /fallbackJobQueue/],
];

describe("release with an invalid spec", () => {
  it.each(CASES)("%s → exit 2 with file:line:col, nothing created in AWS", async (_name, yaml, expected) => {
    await repo.commit({ "pipelines/etl.yml": yaml });
    const before = emu.calls.length;
    const err: string[] = [];
    let backendCreated = false;

    const code = await main(["node", "batchship", "release", "--pipeline", `${repo.dir}/pipelines/etl.yml`], {
      io: { stdout: () => {}, stderr: (s) => err.push(s) },
      createBackend: () => {
        backendCreated = true;
        return createAwsBackend(testClientConfig(emu));
      },
    });

    expect(code).toBe(2);
    expect(err.join("\n")).toMatch(/etl\.yml:\d+:\d+: /);
    expect(err.join("\n")).toMatch(expected);
    expect(backendCreated).toBe(false);
    expect(emu.calls.length).toBe(before);
  });

  it("validate reports every problem of every file and exits 2", async () => {
    await repo.commit({
      "pipelines/a.yml": replace("arraySize: 2", "arraySize: 0").replace("name: etl\n", "name: ETL\n"),
      "pipelines/b.yml": valid,
    });
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(["node", "batchship", "validate", `${repo.dir}/pipelines/a.yml`, `${repo.dir}/pipelines/b.yml`], {
      io: { stdout: (s) => out.push(s), stderr: (s) => err.push(s) },
    });

    expect(code).toBe(2);
    expect(err.join("\n")).toMatch(/a\.yml:2:7: name: /);
    expect(err.join("\n")).toMatch(/a\.yml:\d+:\d+: canary\.arraySize: /);
    expect(out.join("\n")).toMatch(/b\.yml: ok/);
  });
});
