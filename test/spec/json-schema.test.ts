import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { renderPipelineJsonSchema } from "../../src/spec/index.js";

describe("pipelines/schema.json", () => {
  it("matches the zod schema", async () => {
    const committed = await readFile(new URL("../../pipelines/schema.json", import.meta.url), "utf8");
    expect(committed, "pipelines/schema.json is stale: run `npm run schema` and commit the result").toBe(
      renderPipelineJsonSchema(),
    );
  });

  it("is draft-07 with an id, a title and strict objects", () => {
    const schema = JSON.parse(renderPipelineJsonSchema()) as Record<string, unknown>;
    expect(schema["$schema"]).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema["$id"]).toBeTypeOf("string");
    expect(schema["title"]).toBeTypeOf("string");
    expect(schema["additionalProperties"]).toBe(false);
    expect(schema["required"]).toEqual(["apiVersion", "name", "source", "image", "build", "jobDefinition", "canary"]);
  });
});
