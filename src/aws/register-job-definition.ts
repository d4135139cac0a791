import type { RegisterJobDefinitionCommandInput } from "@aws-sdk/client-batch";
import type { JobDefinitionBody } from "../release/ports.js";

type BodyMembers = Omit<RegisterJobDefinitionCommandInput, "jobDefinitionName" | "tags">;

/**
 * A body as RegisterJobDefinition's members. The spec that produced the body is checked member
 * for member against these SDK types (spec-sdk-parity.ts), so the cast states what the spec
 * already holds rather than hoping.
 */
export function toRegisterJobDefinitionMembers(body: JobDefinitionBody): BodyMembers {
  return body as unknown as BodyMembers;
}
