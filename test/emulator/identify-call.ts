import type { IncomingHttpHeaders } from "node:http";
import { batchOperation, taggedResourceArn } from "./batch-operations.js";

export type Protocol = "restJson1" | "awsJson1_1" | "query";

export interface AwsCall {
  service: string;
  operation: string;
  protocol: Protocol;
  input: any;
}

/**
 * Names the AWS operation of a raw request. The service comes from the SigV4 credential scope,
 * exactly as moto routes it, so both sides agree on who is being called.
 * Returns undefined for anything that is not an AWS call (moto's own /moto-api).
 */
export function identifyCall(method: string, url: string, headers: IncomingHttpHeaders, body: string): AwsCall | undefined {
  const service = credentialScopeService(headers.authorization);
  if (!service) return undefined;
  const { pathname, searchParams } = new URL(url, "http://layer");

  const target = headers["x-amz-target"];
  if (typeof target === "string") {
    const operation = target.slice(target.lastIndexOf(".") + 1);
    return { service, operation, protocol: "awsJson1_1", input: parseJson(body) };
  }
  if (pathname.startsWith("/v1/")) {
    const input = { ...Object.fromEntries(searchParams), ...parseJson(body) };
    const resourceArn = taggedResourceArn(pathname);
    if (resourceArn) input.resourceArn = resourceArn;
    return { service, operation: batchOperation(method, pathname), protocol: "restJson1", input };
  }
  // Query protocol (IAM, STS): the operation is the Action form field.
  const form = Object.fromEntries(new URLSearchParams(body));
  return { service, operation: form.Action ?? `${method} ${pathname}`, protocol: "query", input: form };
}

function credentialScopeService(authorization: string | undefined): string | undefined {
  // Credential=<key>/<yyyymmdd>/<region>/<service>/aws4_request
  return authorization?.match(/Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/)?.[1];
}

function parseJson(body: string): Record<string, any> {
  if (body.trim() === "") return {};
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, any>) : {};
  } catch {
    return {};
  }
}
