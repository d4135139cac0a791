import type { PathSegment } from "../problem.js";
import type { JobDefinitionSpec } from "./job-definition-spec.js";

export interface SpecWarning {
  path: PathSegment[];
  message: string;
}

// Batch still accepts these, but its documentation deprecates them in favour of resourceRequirements.
const DEPRECATED = { vcpus: "VCPU", memory: "MEMORY" } as const;

/** What Batch accepts but has deprecated, with the replacement to write instead. */
export function deprecationWarnings(def: JobDefinitionSpec): SpecWarning[] {
  const containers: { container: Record<string, unknown>; path: PathSegment[] }[] = [];
  if (def.containerProperties !== undefined) containers.push({ container: def.containerProperties, path: ["jobDefinition", "containerProperties"] });
  def.nodeProperties?.nodeRangeProperties.forEach((range, r) => {
    if (range.container !== undefined) {
      containers.push({ container: range.container, path: ["jobDefinition", "nodeProperties", "nodeRangeProperties", r, "container"] });
    }
  });
  return containers.flatMap(({ container, path }) =>
    (Object.keys(DEPRECATED) as (keyof typeof DEPRECATED)[])
      .filter((key) => container[key] !== undefined)
      .map((key) => ({
        path: [...path, key],
        message: `deprecated by AWS Batch: write resourceRequirements: [{type: ${DEPRECATED[key]}, value: "${String(container[key])}"}] instead`,
      })),
  );
}
