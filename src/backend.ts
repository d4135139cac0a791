import { createAwsBackend } from "./aws/index.js";
import type { Backend } from "./release/ports.js";
import type { PipelineSpec } from "./spec/schema.js";

/**
 * The backend a spec asks for. The CLI, the Action and the service all get theirs here; the
 * AWS one is configured by the SDK's standard environment (AWS_REGION, AWS_PROFILE, …).
 */
export function createBackendFor(spec: PipelineSpec): Backend {
  switch (spec.build.backend) {
    case "codebuild":
      return createAwsBackend();
  }
}
