import { PipelineSpec } from "../../src/spec/schema.js";

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

/** A valid spec for tests, through the real schema (defaults applied), with overrides merged in. */
export function makeSpec(overrides: DeepPartial<PipelineSpec> = {}): PipelineSpec {
  const base = {
    apiVersion: "batchship/v1",
    name: "etl",
    source: { repository: "acme/etl", branches: ["main"] },
    image: { repository: "etl" },
    build: { backend: "codebuild", project: "etl-image" },
    jobDefinition: {
      name: "etl",
      containerProperties: { command: ["python", "-m", "etl", "Ref::day"], vcpus: 1, memory: 512 },
      parameters: { day: "today" },
    },
    canary: { jobQueue: "etl-canary", arraySize: 3, timeoutMinutes: 30, runnableTimeoutMinutes: 10 },
    promotion: { mode: "auto" },
  };
  return PipelineSpec.parse(merge(base, overrides));
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v && typeof v === "object" && !Array.isArray(v) && b && typeof b === "object" && !Array.isArray(b)
        ? merge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
