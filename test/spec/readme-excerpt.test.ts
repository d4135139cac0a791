import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSpecFile } from "../../src/spec/index.js";

const ROOT = join(import.meta.dirname, "..", "..");

describe("the README's pipeline", () => {
  it("is pipelines/etl.yml as it is, and that file is valid", async () => {
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    const excerpt = /`pipelines\/etl\.yml`[^\n]*\n+```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(excerpt, "README.md has no yaml block after `pipelines/etl.yml`").toBeDefined();
    expect(excerpt).toBe(await readFile(join(ROOT, "pipelines", "etl.yml"), "utf8"));
    expect((await readSpecFile(join(ROOT, "pipelines", "etl.yml"))).ok).toBe(true);
  });
});
