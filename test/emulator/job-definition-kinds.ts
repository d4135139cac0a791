import { errorReply } from "./aws-errors.js";
import type { Interceptors } from "./interceptor.js";
import { isOk, replyJson, withJsonBody } from "./reply.js";

// Members of RegisterJobDefinition moto drops (ecsProperties) or keeps but never describes
// (nodeProperties), and the kinds of job definition: a body gives exactly one.
const KEPT_BY_THE_LAYER = ["ecsProperties", "nodeProperties", "schedulingPriority", "consumableResourceProperties"] as const;
const KINDS = ["containerProperties", "ecsProperties", "eksProperties", "nodeProperties"] as const;

/**
 * Job definitions of every kind, as Batch keeps them: the layer remembers what moto drops and
 * adds it back to DescribeJobDefinitions, and refuses what Batch refuses and moto lets through —
 * a body with more than one kind, a kind that does not match `type`, an array job of a
 * multi-node definition. moto cannot register an ecsProperties job definition at all: it is sent
 * on with a stand-in container, which the description then leaves out again.
 */
export function jobDefinitionKindInterceptors(): Interceptors {
  const kept = new Map<string, Record<string, unknown>>();
  const standIn = new Set<string>();
  const client = (message: string) => errorReply("restJson1", 400, "ClientException", message);

  return {
    "batch.RegisterJobDefinition": async ({ call, forward }) => {
      const input = call.input as Record<string, unknown>;
      const kinds = KINDS.filter((kind) => input[kind] !== undefined);
      if (kinds.length !== 1) return client(`Exactly one of ${KINDS.join(", ")} is required, got ${kinds.join(", ") || "none"}`);
      if ((input["type"] === "multinode") !== (kinds[0] === "nodeProperties")) {
        return client(`A job definition of type ${String(input["type"])} cannot have ${kinds[0]}`);
      }
      const forwarded: Record<string, unknown> = { ...input };
      for (const key of KEPT_BY_THE_LAYER) delete forwarded[key];
      if (kinds[0] === "ecsProperties") forwarded["containerProperties"] = { image: "stand-in", vcpus: 1, memory: 512 };
      if (kinds[0] === "nodeProperties") forwarded["nodeProperties"] = input["nodeProperties"];
      const reply = await forward(forwarded);
      const body = replyJson(reply);
      if (!isOk(reply) || typeof body?.jobDefinitionArn !== "string") return reply;
      const extra = Object.fromEntries(KEPT_BY_THE_LAYER.filter((key) => input[key] !== undefined).map((key) => [key, input[key]]));
      kept.set(body.jobDefinitionArn, extra);
      if (kinds[0] === "ecsProperties") standIn.add(body.jobDefinitionArn);
      return reply;
    },

    "batch.DescribeJobDefinitions": async ({ forward }) => {
      const reply = await forward();
      const body = replyJson(reply);
      if (!isOk(reply) || !Array.isArray(body?.jobDefinitions)) return reply;
      const jobDefinitions = body.jobDefinitions.map((definition: Record<string, unknown>) => {
        const arn = String(definition["jobDefinitionArn"]);
        const described: Record<string, unknown> = { ...definition, ...(kept.get(arn) ?? {}) };
        if (standIn.has(arn)) delete described["containerProperties"];
        return described;
      });
      return withJsonBody(reply, { ...body, jobDefinitions });
    },

    "batch.SubmitJob": async ({ call, forward }) => {
      const definition = String(call.input.jobDefinition ?? "");
      const isMultinode = kept.get(definition)?.["nodeProperties"] !== undefined;
      if (isMultinode && call.input.arrayProperties !== undefined) {
        return client("Array jobs are not supported for multi-node parallel job definitions");
      }
      if (isMultinode && call.input.containerOverrides !== undefined) {
        return client("containerOverrides cannot be used with a multi-node parallel job definition: use nodeOverrides");
      }
      if (standIn.has(definition) && call.input.containerOverrides !== undefined) {
        return client("containerOverrides cannot be used with an ecsProperties job definition: use ecsPropertiesOverride");
      }
      return forward();
    },
  };
}
