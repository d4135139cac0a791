export { parseSpec, readSpecFile, type LoadResult } from "./load.js";
export { formatPath, formatProblem, type SpecProblem } from "./problem.js";
export { branchMatches, renderTags, sanitizeBranch, type CommitFacts } from "./templates.js";
export { pipelineJsonSchema, renderPipelineJsonSchema, PIPELINE_SCHEMA_ID } from "./json-schema.js";
export {
  BuildSpec,
  CanarySpec,
  ImageSpec,
  JobDefinitionSpec,
  PipelineSpec,
  PromotionSpec,
  SourceSpec,
} from "./schema.js";
