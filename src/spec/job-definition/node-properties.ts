import { z } from "zod";
import { ContainerPropertiesSpec } from "./container-properties.js";
import { EcsPropertiesSpec } from "./ecs-properties.js";
import { EksPropertiesSpec } from "./eks-properties.js";
import { ConsumableResourcePropertiesSpec } from "./retry-and-timeout.js";
import { nonEmpty, stringList, wholeNumber } from "./fields.js";

/** nodeProperties: a multi-node parallel job. See container-properties.ts for how to add a member. */

// "0:3", "4:", ":2", "5": Batch's node index ranges.
const NODE_RANGE = /^(\d+)?(?::(\d+)?)?$/;

export const NodeContainerPropertiesSpec = ContainerPropertiesSpec.extend({
  image: nonEmpty()
    .optional()
    .describe("Leave out to run the image batchship built (pinned by digest)"),
  instanceType: nonEmpty().optional().describe("Instance type for the nodes of this range"),
});

export const NodeRangePropertySpec = z.strictObject({
  targetNodes: z.string().regex(NODE_RANGE, "must be a node index range such as 0:3, 4: or 0"),
  container: NodeContainerPropertiesSpec.optional(),
  instanceTypes: stringList().max(1).optional(),
  ecsProperties: EcsPropertiesSpec.optional(),
  eksProperties: EksPropertiesSpec.optional(),
  consumableResourceProperties: ConsumableResourcePropertiesSpec.optional(),
});

export const NodePropertiesSpec = z
  .strictObject({
    // 1,000 nodes is a default quota Batch raises on request, not a limit of the API.
    numNodes: wholeNumber(1),
    mainNode: wholeNumber(0),
    nodeRangeProperties: z.array(NodeRangePropertySpec).min(1).max(5),
  })
  .describe("AWS Batch nodeProperties: a multi-node parallel job; the canary runs it as one job, not an array");

/** [first, last] node indexes of a range for a job of `numNodes` nodes. */
export function nodeRange(targetNodes: string, numNodes: number): [number, number] | undefined {
  const match = NODE_RANGE.exec(targetNodes);
  if (match === null) return undefined;
  const start = match[1] === undefined ? 0 : Number(match[1]);
  const hasColon = targetNodes.includes(":");
  const end = hasColon ? (match[2] === undefined ? numNodes - 1 : Number(match[2])) : start;
  return [start, end];
}
