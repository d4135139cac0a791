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

  it("gives editors Batch's limits as minimum, maximum and enum, and refuses unknown keys at depth", () => {
    const schema = JSON.parse(renderPipelineJsonSchema()) as any;
    const job = schema.properties.jobDefinition.properties;
    expect(job.timeout.properties.attemptDurationSeconds).toMatchObject({ type: "integer", minimum: 60 });
    expect(job.retryStrategy.properties.attempts).toMatchObject({ minimum: 1, maximum: 10 });
    expect(job.retryStrategy.properties.evaluateOnExit).toMatchObject({ maxItems: 5 });
    expect(job.retryStrategy.properties.evaluateOnExit.items.properties.action.enum).toEqual(["RETRY", "EXIT"]);
    const container = job.containerProperties;
    expect(container.additionalProperties).toBe(false);
    expect(container.properties.resourceRequirements.items.properties.type.enum).toEqual(["GPU", "VCPU", "MEMORY"]);
    expect(container.properties.ephemeralStorage.properties.sizeInGiB).toMatchObject({ minimum: 21, maximum: 200 });
    expect(job.nodeProperties.properties.nodeRangeProperties.items.additionalProperties).toBe(false);
    expect(job.schedulingPriority).toMatchObject({ minimum: 0, maximum: 9999 });
    expect(schema.properties.canary.properties.schedulingPriorityOverride).toMatchObject({ minimum: 0, maximum: 9999 });
  });
});
