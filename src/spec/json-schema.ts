import { z } from "zod";
import { PipelineSpec } from "./schema.js";

/** Not fetched by anything: it names the schema so tools can tell it apart from others. */
export const PIPELINE_SCHEMA_ID = "urn:batchship:pipeline-spec:v1";

/**
 * The JSON Schema editors use for pipelines/*.yml. Input shape, so fields with defaults are
 * optional; draft-07 because that is what the YAML language server fully supports.
 * Cross-field checks (refinements) are not expressible here and only run in `batchship validate`.
 */
export function pipelineJsonSchema(): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(PipelineSpec, { io: "input", target: "draft-07" });
  return {
    $schema,
    $id: PIPELINE_SCHEMA_ID,
    title: "batchship pipeline",
    description:
      "A batchship pipeline spec: build an image on every push, run a canary array job on AWS Batch, promote the job definition.",
    ...rest,
  };
}

/** The exact bytes of pipelines/schema.json. */
export function renderPipelineJsonSchema(): string {
  return `${JSON.stringify(pipelineJsonSchema(), null, 2)}\n`;
}
