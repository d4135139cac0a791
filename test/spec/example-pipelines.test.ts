import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readSpecFile } from "../../src/spec/index.js";

const DIR = fileURLToPath(new URL("../../pipelines/", import.meta.url));
const EXAMPLES = readdirSync(DIR).filter((name) => name.endsWith(".yml")).sort();

describe("the example pipelines", () => {
  it.each(EXAMPLES)("%s is valid, without warnings", async (name) => {
    const result = await readSpecFile(`${DIR}${name}`);
    expect(result.ok ? result.warnings : result.problems).toEqual([]);
  });

  it("show every kind of job definition", async () => {
    const kinds = new Set<string>();
    for (const name of EXAMPLES) {
      const result = await readSpecFile(`${DIR}${name}`);
      if (!result.ok) continue;
      const def = result.spec.jobDefinition;
      for (const kind of ["containerProperties", "ecsProperties", "eksProperties", "nodeProperties"] as const) {
        if (def[kind] !== undefined) kinds.add(`${kind}${kind === "containerProperties" ? `:${def.platformCapabilities?.[0] ?? "EC2"}` : ""}`);
      }
    }
    expect([...kinds].sort()).toEqual(["containerProperties:EC2", "containerProperties:FARGATE", "ecsProperties", "eksProperties", "nodeProperties"]);
  });
});
