import type { SubmitJobCommandInput } from "@aws-sdk/client-batch";
import type { JobDefinitionBody } from "../release/ports.js";

type Overrides = Pick<SubmitJobCommandInput, "containerOverrides" | "ecsPropertiesOverride" | "eksPropertiesOverride" | "nodeOverrides">;
type Json = Record<string, unknown>;

/**
 * SubmitJob's overrides that set environment variables, addressed the way each kind of job
 * definition takes them: Batch refuses containerOverrides for an ECS task, a pod or a
 * multi-node job. Every container is addressed — the canary tests the job as a whole.
 */
export function environmentOverrides(definition: JobDefinitionBody | undefined, environment: Record<string, string>): Overrides {
  const pairs = Object.entries(environment).map(([name, value]) => ({ name, value }));
  if (pairs.length === 0) return {};
  if (definition?.ecsProperties !== undefined) return { ecsPropertiesOverride: ecsOverride(definition.ecsProperties, pairs) };
  if (definition?.eksProperties !== undefined) return { eksPropertiesOverride: eksOverride(definition.eksProperties, pairs) };
  if (definition?.nodeProperties !== undefined) {
    const nodePropertyOverrides = listOf(definition.nodeProperties["nodeRangeProperties"]).map((range) => {
      const targetNodes = String(range["targetNodes"]);
      if (isJson(range["ecsProperties"])) return { targetNodes, ecsPropertiesOverride: ecsOverride(range["ecsProperties"], pairs) };
      if (isJson(range["eksProperties"])) return { targetNodes, eksPropertiesOverride: eksOverride(range["eksProperties"], pairs) };
      return { targetNodes, containerOverrides: { environment: pairs } };
    });
    return { nodeOverrides: { nodePropertyOverrides } };
  }
  return { containerOverrides: { environment: pairs } };
}

function ecsOverride(ecs: Json, pairs: { name: string; value: string }[]) {
  return {
    taskProperties: listOf(ecs["taskProperties"]).map((task) => ({
      containers: listOf(task["containers"]).map((container) => ({
        ...(typeof container["name"] === "string" ? { name: container["name"] } : {}),
        environment: pairs,
      })),
    })),
  };
}

function eksOverride(eks: Json, pairs: { name: string; value: string }[]) {
  const pod = isJson(eks["podProperties"]) ? eks["podProperties"] : {};
  return {
    podProperties: {
      containers: listOf(pod["containers"]).map((container) => ({
        ...(typeof container["name"] === "string" ? { name: container["name"] } : {}),
        env: pairs,
      })),
    },
  };
}

function listOf(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isJson) : [];
}

function isJson(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
