import { errorReply } from "./aws-errors.js";
import type { Interceptors } from "./interceptor.js";

/** Batch: at most 50 tags on a resource (the API model's TagrisTagsMap / TagsMap). */
const TAG_LIMIT = 50;

/**
 * TagResource on a job definition as Batch documents it: refused when the revision would carry
 * more than 50 tags, its own and the new ones together. moto takes any number.
 */
export function batchTagLimitInterceptors(motoEndpoint: string): Interceptors {
  return {
    "batch.TagResource": async (exchange) => {
      const input = (exchange.call.input ?? {}) as { resourceArn?: string; tags?: Record<string, string> };
      const arn = input.resourceArn ?? "";
      if (!arn.includes(":job-definition/")) return exchange.forward();
      const existing = await tagsOf(motoEndpoint, arn);
      const keys = new Set([...Object.keys(existing), ...Object.keys(input.tags ?? {})]);
      if (keys.size > TAG_LIMIT) {
        return errorReply(exchange.call.protocol, 400, "ClientException", `${arn} would have ${keys.size} tags; at most ${TAG_LIMIT} are allowed`);
      }
      return exchange.forward();
    },
  };
}

/** The tags moto holds for a job definition revision (none when it does not know it). */
async function tagsOf(motoEndpoint: string, arn: string): Promise<Record<string, string>> {
  const response = await fetch(`${motoEndpoint}/v1/describejobdefinitions`, {
    method: "POST",
    // moto routes on the credential scope and does not check the signature.
    headers: {
      "content-type": "application/json",
      authorization: "AWS4-HMAC-SHA256 Credential=emulator/20240101/us-east-1/batch/aws4_request, SignedHeaders=host, Signature=0",
    },
    body: JSON.stringify({ jobDefinitions: [arn] }),
  });
  const body = (await response.json()) as { jobDefinitions?: { tags?: Record<string, string> }[] };
  return body.jobDefinitions?.[0]?.tags ?? {};
}
