import { PipelineSpec } from "../../src/spec/schema.js";

/** A valid pipeline spec for the AWS tests; `overrides` replace whole sections. */
export function testSpec(overrides: Partial<Record<keyof PipelineSpec, unknown>> = {}): PipelineSpec {
  return PipelineSpec.parse({
    apiVersion: "batchship/v1",
    name: "etl",
    source: { repository: "acme/etl" },
    image: { repository: "etl" },
    build: { project: "etl-build" },
    jobDefinition: { name: "etl", containerProperties: { command: ["run"] } },
    canary: { jobQueue: "canary", arraySize: 3 },
    ...overrides,
  });
}
