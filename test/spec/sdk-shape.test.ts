import { RegisterJobDefinitionRequest$ } from "@aws-sdk/client-batch";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { JobDefinitionSpec } from "../../src/spec/schema.js";

/**
 * The SDK ships its service model at run time (schemas_0): a structure is
 * [3, namespace, name, traits, memberNames, memberSchemas, …], a list [1, …, member], a map
 * [2, …, key, value]; members may be thunks. Walking it beside the zod schema finds any member
 * one has and the other lacks, at any depth, whatever version of the SDK is installed.
 */
type SdkSchema = unknown;

function resolve(schema: SdkSchema): SdkSchema {
  return typeof schema === "function" ? resolve((schema as () => SdkSchema)()) : schema;
}

/** The structure a member holds, through lists; undefined for scalars and maps. */
function structureOf(schema: SdkSchema): { names: string[]; members: SdkSchema[] } | undefined {
  const resolved = resolve(schema);
  if (!Array.isArray(resolved)) return undefined;
  if (resolved[0] === 3) return { names: resolved[4] as string[], members: resolved[5] as SdkSchema[] };
  if (resolved[0] === 1) return structureOf(resolved[4]);
  return undefined;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodDefault) current = current.unwrap() as z.ZodType;
    else if (current instanceof z.ZodArray) current = current.element as z.ZodType;
    else return current;
  }
}

function differences(sdk: SdkSchema, spec: z.ZodType, path: string, ignore: readonly string[] = []): string[] {
  const structure = structureOf(sdk);
  const object = unwrap(spec);
  if (structure === undefined) return [];
  if (!(object instanceof z.ZodObject)) return [`${path}: the SDK has a structure, the spec ${object.constructor.name}`];
  const specKeys = Object.keys(object.shape).filter((key) => !ignore.includes(key));
  const found = [
    ...structure.names.filter((name) => !specKeys.includes(name)).map((name) => `${path}: the spec lacks ${name}`),
    ...specKeys.filter((key) => !structure.names.includes(key)).map((key) => `${path}: the SDK has no ${key}`),
  ];
  structure.names.forEach((name, i) => {
    const member = object.shape[name] as z.ZodType | undefined;
    if (member !== undefined) found.push(...differences(structure.members[i], member, `${path}.${name}`));
  });
  return found;
}

describe("jobDefinition and the SDK's RegisterJobDefinition request", () => {
  it("have the same members at every depth", () => {
    expect(differences(RegisterJobDefinitionRequest$, JobDefinitionSpec, "jobDefinition", ["name", "platform"])).toEqual([]);
  });

  it("would notice a member the spec lacks", () => {
    const lacking = z.strictObject({
      ...JobDefinitionSpec.shape,
      timeout: z.strictObject({}).optional(),
    });
    expect(differences(RegisterJobDefinitionRequest$, lacking, "jobDefinition", ["name", "platform"])).toEqual([
      "jobDefinition.timeout: the spec lacks attemptDurationSeconds",
    ]);
  });
});
