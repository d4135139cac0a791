import { createAwsBackend } from "../aws/index.js";
import { checkAwsEnvironment } from "../aws/doctor.js";
import type { Backend } from "../release/ports.js";
import type { PipelineSpec } from "../spec/schema.js";

/** The backend a spec asks for, configured from the standard AWS environment. */
export function createBackendFor(spec: PipelineSpec): Backend {
  switch (spec.build.backend) {
    case "codebuild": {
      const aws = createAwsBackend();
      return { ...aws, doctor: (s) => checkAwsEnvironment(aws.clients, s) };
    }
  }
}
