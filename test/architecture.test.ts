import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = fileURLToPath(new URL("../src", import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Folders of src/ whose files import the package, for each package family. */
function importers(pattern: RegExp): string[] {
  const folders = sourceFiles(SRC)
    .filter((file) => pattern.test(readFileSync(file, "utf8")))
    .map((file) => relative(SRC, file).split(/[\\/]/)[0] ?? "");
  return [...new Set(folders)].sort();
}

describe("the ports and adapters hold", () => {
  it("only src/aws imports the AWS SDK", () => {
    expect(importers(/from "@aws-sdk\/|from "@smithy\//)).toEqual(["aws"]);
  });

  it("only src/git imports simple-git", () => {
    expect(importers(/from "simple-git"/)).toEqual(["git"]);
  });

  it("only src/github imports Octokit", () => {
    expect(importers(/from "@octokit\//)).toEqual(["github"]);
  });

  it("the engine (src/release, src/canary) imports no backend", () => {
    const engine = sourceFiles(SRC).filter((f) => /[\\/]src[\\/](release|canary)[\\/]/.test(f));
    const offenders = engine.filter((f) => /from "\.\.\/(\.\.\/)?(aws|local|git|github|server|service|store)\//.test(readFileSync(f, "utf8")));
    expect(offenders.map((f) => relative(SRC, f))).toEqual([]);
  });
});
