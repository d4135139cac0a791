import { createHash } from "node:crypto";
import type { NewRelease } from "../../src/store/types.js";

/** A push of `label` (it stands for a commit) to `pipeline`, as a webhook delivery queues it. */
export function newRelease(pipeline: string, label: string, deliveryId = `delivery-${pipeline}-${label}`): NewRelease {
  const commit = createHash("sha1").update(label).digest("hex");
  return {
    id: `${pipeline}-${commit.slice(0, 12)}`,
    pipeline,
    repository: `acme/${pipeline}`,
    commit,
    branch: "main",
    cloneUrl: `https://github.com/acme/${pipeline}.git`,
    specJson: JSON.stringify({ name: pipeline }),
    deliveryId,
  };
}
