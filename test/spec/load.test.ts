import { readdir, readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { formatProblem, parseSpec, readSpecFile } from "../../src/spec/index.js";
import { VALID, withAppended, withLine } from "./fixtures.js";

const FILE = "pipelines/p.yml";

function problems(text: string): string[] {
  const result = parseSpec(text, FILE);
  return result.ok ? [] : result.problems.map(formatProblem);
}

describe("parseSpec on valid specs", () => {
  it("accepts a minimal spec and fills in the defaults", () => {
    const result = parseSpec(VALID, FILE);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.spec.canary.arraySize).toBe(3);
    expect(result.spec.image.tags).toEqual(["{sha}", "{branch}-{shortSha}"]);
    expect(result.spec.promotion.mode).toBe("auto");
    expect(result.spec.source.branches).toEqual(["main"]);
  });

  it("accepts every example in pipelines/", async () => {
    const dir = new URL("../../pipelines/", import.meta.url);
    const examples = (await readdir(dir)).filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"));
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const example of examples) {
      const text = await readFile(new URL(example, dir), "utf8");
      expect(text.startsWith("# yaml-language-server: $schema=./schema.json\n"), example).toBe(true);
      const result = parseSpec(text, example);
      expect(result.ok ? [] : result.problems.map(formatProblem), example).toEqual([]);
    }
  });

  it("loads the examples with the settings they demonstrate", async () => {
    const etl = await readSpecFile(new URL("../../pipelines/etl.yml", import.meta.url).pathname);
    const report = await readSpecFile(new URL("../../pipelines/report.yml", import.meta.url).pathname);
    if (!etl.ok || !report.ok) throw new Error("examples must be valid");
    expect(etl.spec.promotion.mode).toBe("auto");
    expect(etl.spec.canary.arraySize).toBe(3);
    expect(etl.spec.canary.fallbackJobQueue).toBeDefined();
    expect(report.spec.promotion.mode).toBe("manual");
    expect(report.spec.jobDefinition.platformCapabilities).toEqual(["FARGATE"]);
  });
});

describe("parseSpec reports each kind of problem at its line and column", () => {
  const cases: Array<[string, string, string[]]> = [
    ["wrong apiVersion", withLine(1, "apiVersion: batchship/v2"), [
      `${FILE}:1:13: apiVersion: must be batchship/v1`,
    ]],
    ["bad name", withLine(2, "name: ETL_job"), [
      `${FILE}:2:7: name: must be lowercase letters, digits and '-', at most 64`,
    ]],
    ["number where text is expected", withLine(2, "name: 123"), [
      `${FILE}:2:7: name: expected text, got 123 (put it in quotes if it is meant as text: "123")`,
    ]],
    ["unknown key with a close match", withLine(5, "imag:"), [
      // The did-you-mean says the key is missing: it is not reported a second time.
      `${FILE}:5:1: imag: unknown key "imag" (did you mean "image"?)`,
    ]],
    ["unknown key differing in case", withLine(12, "  jobqueue: etl-queue"), [
      `${FILE}:12:3: canary.jobqueue: unknown key "jobqueue" (did you mean "jobQueue"?)`,
    ]],
    ["unknown nested key without a close match", withAppended("  colour: blue"), [
      `${FILE}:13:3: canary.colour: unknown key "colour"; expected one of: jobQueue, arraySize, timeoutMinutes, ` +
        "runnableTimeoutMinutes, fallbackJobQueue, minSuccessRate, parameters, environment, shareIdentifier, " +
        "schedulingPriorityOverride, propagateTags",
    ]],
    ["missing required section", withLine(7, null).replace("  project: etl-build\n", ""), [
      `${FILE}:1:1: build: missing required key "build"`,
    ]],
    ["section left empty", withLine(8, null), [
      `${FILE}:7:1: build: expected a mapping, got an empty value`,
    ]],
    ["arraySize 0", withAppended("  arraySize: 0"), [
      `${FILE}:13:14: canary.arraySize: must be at least 1, got 0`,
    ]],
    ["arraySize 10001", withAppended("  arraySize: 10001"), [
      `${FILE}:13:14: canary.arraySize: must be at most 10000, got 10001`,
    ]],
    ["arraySize not a whole number", withAppended("  arraySize: 2.5"), [
      `${FILE}:13:14: canary.arraySize: must be a whole number, got 2.5`,
    ]],
    ["string for a number", withAppended('  arraySize: "3"'), [
      `${FILE}:13:14: canary.arraySize: expected a number, got "3"`,
    ]],
    ["minSuccessRate 1.5", withAppended("  minSuccessRate: 1.5"), [
      `${FILE}:13:19: canary.minSuccessRate: must be at most 1, got 1.5`,
    ]],
    ["fallback queue equal to jobQueue", withAppended("  fallbackJobQueue: etl-queue"), [
      `${FILE}:13:21: canary.fallbackJobQueue: fallbackJobQueue must differ from jobQueue`,
    ]],
    ["runnable timeout above the canary timeout", withAppended("  timeoutMinutes: 5", "  runnableTimeoutMinutes: 20"), [
      `${FILE}:14:27: canary.runnableTimeoutMinutes: runnableTimeoutMinutes must not exceed timeoutMinutes`,
    ]],
    ["invalid environment variable name", withAppended("  environment:", "    1BAD: x"), [
      `${FILE}:14:5: canary.environment["1BAD"]: invalid key "1BAD": must be an environment variable name`,
    ]],
    ["first tag without {sha}", withLine(6, "  repository: etl\n  tags:\n    - latest\n    - \"{sha}\""), [
      `${FILE}:8:7: image.tags[0]: the first tag must contain {sha}: it is how a build is found again`,
    ]],
    ["first tag with {branch}", withLine(6, "  repository: etl\n  tags: [\"{branch}-{sha}\"]"), [
      `${FILE}:7:10: image.tags[0]: the first tag must not contain {branch}: it must name the commit alone`,
    ]],
    ["multi-line build argument", withLine(6, "  repository: etl\n  buildArgs:\n    NOTE: \"a\\nb\""), [
      `${FILE}:8:11: image.buildArgs.NOTE: must be a single line`,
    ]],
    ["build context that reads as an option", withLine(6, "  repository: etl\n  context: --output=/tmp"), [
      `${FILE}:7:12: image.context: must not start with '-'`,
    ]],
    ["job definition name too long for its candidate", withLine(10, `  name: ${"j".repeat(122)}`), [
      `${FILE}:10:9: jobDefinition.name: must be 1-121 letters, digits, '-' or '_' (the candidate adds '-canary')`,
    ]],
    ["bad tag template", withLine(6, "  repository: etl\n  tags: [\"{sha}\", \"{commit}\"]"), [
      `${FILE}:7:19: image.tags[1]: may use letters, digits, '._-' and {sha} {shortSha} {branch}`,
    ]],
    ["containerProperties.image set", withLine(10, "  name: etl\n  containerProperties:\n    image: etl:latest"), [
      `${FILE}:12:12: jobDefinition.containerProperties.image: must not be set: batchship pins the image it built (repository@sha256:…)`,
    ]],
    ["reserved batchship: tag", withLine(10, "  name: etl\n  tags:\n    team: data\n    batchship:commit: abc"), [
      `${FILE}:13:5: jobDefinition.tags["batchship:commit"]: tag keys starting with "batchship:" are reserved for batchship's own tags`,
    ]],
    ["platform outside the enum", withLine(10, "  name: etl\n  platformCapabilities: [fargate]"), [
      `${FILE}:11:26: jobDefinition.platformCapabilities[0]: must be one of "EC2", "FARGATE", got "fargate"`,
    ]],
    ["YAML syntax error: tab indentation", withLine(4, "\trepository: acme/etl"), [
      `${FILE}:4:1: (root): invalid YAML: Tabs are not allowed as indentation`,
    ]],
    ["YAML syntax error: inconsistent indentation", withLine(4, "  repository: acme/etl\n   branches: [main]"), [
      `${FILE}:4:15: (root): invalid YAML: Nested mappings are not allowed in compact mappings`,
    ]],
    ["duplicate key", withLine(12, "  jobQueue: etl-queue\n  arraySize: 2\n  arraySize: 4"), [
      `${FILE}:14:3: canary.arraySize: duplicate key "arraySize": already set on line 13`,
    ]],
    ["empty file", "", [
      `${FILE}:1:1: (root): the file is empty: a pipeline spec needs apiVersion, name, source, image, build, jobDefinition, canary`,
    ]],
    ["comments only", "# nothing yet\n", [
      `${FILE}:1:1: (root): the file is empty: a pipeline spec needs apiVersion, name, source, image, build, jobDefinition, canary`,
    ]],
    ["a list at the top level", "# spec\n- name: etl\n", [
      `${FILE}:2:1: (root): expected a mapping of settings (apiVersion: batchship/v1, …), got a list`,
    ]],
  ];

  it.each(cases)("%s", (_, text, expected) => {
    expect(problems(text)).toEqual(expected);
  });

  it("covers at least 12 distinct kinds", () => {
    expect(cases.length).toBeGreaterThanOrEqual(12);
  });
});

describe("parseSpec reports every problem of a file", () => {
  it("lists schema problems and duplicate keys together, top to bottom", () => {
    const text = [
      "apiVersion: batchship/v2",
      "name: Etl",
      "source:",
      "  repository: acme/etl",
      "  branch: main",
      "image:",
      "  repository: etl",
      "  tags: [latest]",
      "build:",
      "  project: etl-build",
      "  project: etl-build-2",
      "jobDefinition:",
      "  name: etl",
      "canary:",
      "  jobQueue: q",
      "  arraySize: many",
      "  fallbackJobQueue: q",
      "  minSuccessRate: -1",
    ].join("\n");
    expect(problems(text)).toEqual([
      `${FILE}:1:13: apiVersion: must be batchship/v1`,
      `${FILE}:2:7: name: must be lowercase letters, digits and '-', at most 64`,
      `${FILE}:5:3: source.branch: unknown key "branch" (did you mean "branches"?)`,
      `${FILE}:8:10: image.tags[0]: the first tag must contain {sha}: it is how a build is found again`,
      `${FILE}:11:3: build.project: duplicate key "project": already set on line 10`,
      `${FILE}:16:14: canary.arraySize: expected a number, got "many"`,
      `${FILE}:17:21: canary.fallbackJobQueue: fallbackJobQueue must differ from jobQueue`,
      `${FILE}:18:19: canary.minSuccessRate: must be at least 0, got -1`,
    ]);
  });
});

describe("readSpecFile", () => {
  it("reports an unreadable file as one problem at 1:1 with the reason", async () => {
    const result = await readSpecFile("does-not-exist.yml");
    expect(result).toEqual({
      ok: false,
      problems: [
        {
          file: "does-not-exist.yml",
          line: 1,
          col: 1,
          path: "(root)",
          message: "cannot read the file: no such file or directory (ENOENT)",
        },
      ],
    });
  });
});

describe("parseSpec with YAML anchors", () => {
  it("points a problem reached through an alias at the alias, not at the anchor", () => {
    const text = withLine(12, "  jobQueue: etl-queue\n  parameters: &p\n    a: 1\n  environment: *p");
    const quoteHint = '(put it in quotes if it is meant as text: "1")';
    expect(problems(text)).toEqual([
      `${FILE}:14:8: canary.parameters.a: expected text, got 1 ${quoteHint}`,
      `${FILE}:15:16: canary.environment.a: expected text, got 1 ${quoteHint}`,
    ]);
  });
});
